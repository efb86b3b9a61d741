/**
 * Every server-side read of a file a learner can touch (their workspace: checks' evidence, the
 * audit policy, drill participants' workspaces) goes through here, because the learner can swap
 * any path in it while the server reads (issue 15, finding 2: realpath-then-readFile leaked the
 * instructor token and a cluster's CA key through a symlink renamed in between).
 *
 * So nothing here resolves a path and then opens it. The walk opens each component relative to
 * the descriptor of the one before (through /proc/self/fd, Node has no openat) with O_PATH and
 * O_NOFOLLOW: a symlink at any component is refused, never followed, and an O_PATH descriptor
 * opens nothing (a FIFO cannot block, a device cannot act). Only once fstat on that descriptor says
 * "a regular file of the workspace's owner, within the size limit" is the same inode opened for
 * reading (O_NONBLOCK | O_NOCTTY), checked again, and read from that descriptor alone.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Linux's O_PATH (not in fs.constants): a descriptor that names an inode without opening it. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_RDONLY } = constants;

export type WorkspaceRead = { ok: true; content: Buffer } | { ok: false; reason: string };

export interface WorkspaceReadOptions {
  /** Larger files are refused unread (default MAX_FILE_BYTES). */
  maxBytes?: number;
  /** Stops the read between steps and chunks: a check out of time reads no further. */
  signal?: AbortSignal;
}

const refuse = (reason: string): WorkspaceRead => ({ ok: false, reason });
const fdPath = (handle: FileHandle, name?: string) => `/proc/self/fd/${handle.fd}${name === undefined ? '' : `/${name}`}`;

/** The relative path's components, or null when it leaves the workspace. */
function componentsOf(relative: string): string[] | null {
  if (path.isAbsolute(relative) || relative.includes('\0')) return null;
  const parts = path.normalize(relative).split(path.sep).filter((part) => part !== '' && part !== '.');
  return parts.length === 0 || parts.includes('..') ? null : parts;
}

function openError(relative: string, error: unknown, component: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${relative} is missing`;
  if (code === 'ENOTDIR' || code === 'ELOOP') return `${relative} passes through ${component}, which is not a directory (the server does not follow symbolic links)`;
  return `${relative} cannot be read (${code ?? 'error'})`;
}

/** Why `info` may not be read as the learner's file, or null when it may. */
function unreadable(relative: string, info: Stats, owner: number, maxBytes: number): string | null {
  if (info.isSymbolicLink()) return `${relative} is a symbolic link, which the server does not follow: put the file itself there`;
  if (!info.isFile()) return `${relative} is not a regular file`;
  // A hard link to someone else's file would pass every other test: only the workspace owner's files count.
  if (info.uid !== owner) return `${relative} is not owned by the workspace's owner (uid ${info.uid}, not ${owner}): write it from your shell`;
  if (info.size > maxBytes) return `${relative} is larger than ${formatBytes(maxBytes)}`;
  return null;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes} bytes`;
}

/** Reads `relative` inside `workspace` without following a symlink at any component (see above). */
export async function readWorkspaceFile(workspace: string, relative: string, options: WorkspaceReadOptions = {}): Promise<WorkspaceRead> {
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  const { signal } = options;
  signal?.throwIfAborted();
  const parts = componentsOf(relative);
  if (!parts) return refuse(`${relative} is outside the workspace`);
  const handles: FileHandle[] = [];
  const track = (handle: FileHandle) => (handles.push(handle), handle);
  try {
    // The workspace itself is the server's path (under the data dir, which no learner can write).
    const root = await realpath(workspace).catch(() => undefined);
    if (!root) return refuse(`${relative} is missing (there is no workspace yet)`);
    let dir = track(await open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW));
    const owner = (await dir.stat()).uid;
    for (const [index, part] of parts.entries()) {
      const last = index === parts.length - 1;
      signal?.throwIfAborted();
      try {
        dir = track(await open(fdPath(dir, part), O_PATH | O_NOFOLLOW | (last ? 0 : O_DIRECTORY)));
      } catch (error) {
        return refuse(openError(relative, error, parts.slice(0, index + 1).join('/')));
      }
    }
    const named = dir;
    const problem = unreadable(relative, await named.stat(), owner, maxBytes);
    if (problem) return refuse(problem);
    // Reopening through the O_PATH descriptor opens that very inode, whatever the path holds now.
    const file = track(await open(fdPath(named), O_RDONLY | O_NONBLOCK | O_NOCTTY));
    const info = await file.stat();
    const first = await named.stat();
    const again = unreadable(relative, info, owner, maxBytes);
    if (again) return refuse(again);
    if (info.ino !== first.ino || info.dev !== first.dev) return refuse(`${relative} changed while it was being read; try again`);
    // The kernel's own account of where the descriptor is: inside the workspace, or not read.
    const where = await readlink(fdPath(file));
    if (!where.startsWith(`${root}${path.sep}`)) return refuse(`${relative} is outside the workspace`);
    const content = await readBounded(file, maxBytes, signal);
    return content ? { ok: true, content } : refuse(`${relative} is larger than ${formatBytes(maxBytes)}`);
  } catch (error) {
    // Cancelled is no verdict on the learner's file: the caller learns it was cancelled.
    if (signal?.aborted) throw signal.reason;
    return refuse(`${relative} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await Promise.all(handles.map((handle) => handle.close().catch(() => {})));
  }
}

/** Reads to the end, or null past `maxBytes` (the file may grow after fstat). */
async function readBounded(file: FileHandle, maxBytes: number, signal: AbortSignal | undefined): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) return null;
  }
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}
