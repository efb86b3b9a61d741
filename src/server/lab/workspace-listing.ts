/**
 * The Files tab's view of a learner's workspace: what is there (name, size, modified) and the
 * text of one file. The server runs privileged and the learner controls every name below the
 * workspace, so, as in workspace-files.ts, nothing is resolved and then opened: each directory is
 * opened relative to its parent's descriptor with O_NOFOLLOW, entries are lstat'ed through that
 * descriptor (a symlink is listed as one and never followed), and a file's content is read only
 * through readWorkspaceFile (regular files of the workspace's owner, no symlink anywhere).
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, type FileHandle } from 'node:fs/promises';
import { readWorkspaceFile } from './workspace-files.ts';

/** A file the viewer shows at most (larger ones: read them in the shell). */
export const MAX_VIEW_BYTES = 256 * 1024;
/** Entries listed at most, and how deep directories are walked. */
export const MAX_ENTRIES = 500;
export const MAX_DEPTH = 6;

const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW } = constants;

export interface WorkspaceEntry {
  /** Relative to the workspace, `/`-separated. Any bytes the learner chose: shown as text, never as markup. */
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  modifiedAt: string;
  /** Why the viewer will not open it (a symlink, not the learner's own, ...), if it will not. */
  unreadable?: string;
}

export interface WorkspaceListing {
  entries: WorkspaceEntry[];
  /** More entries (or deeper ones) than listed. */
  truncated: boolean;
}

export type WorkspaceFileView =
  | { path: string; size: number; kind: 'text'; text: string }
  | { path: string; size: number; kind: 'binary' }
  | { path: string; kind: 'refused'; reason: string };

const fdPath = (handle: FileHandle, name?: string) => `/proc/self/fd/${handle.fd}${name === undefined ? '' : `/${name}`}`;

/** Every entry under the workspace, depth first, directories before their contents. */
export async function listWorkspace(workspace: string): Promise<WorkspaceListing> {
  const entries: WorkspaceEntry[] = [];
  let truncated = false;
  const root = await realpath(workspace).catch(() => undefined);
  if (!root) return { entries, truncated };
  const handles: FileHandle[] = [];
  try {
    const top = await open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    handles.push(top);
    const owner = (await top.stat()).uid;
    const walk = async (dir: FileHandle, prefix: string, depth: number): Promise<void> => {
      const names = (await readdir(fdPath(dir)).catch(() => [] as string[])).sort();
      for (const name of names) {
        if (entries.length >= MAX_ENTRIES) {
          truncated = true;
          return;
        }
        const info = await lstat(fdPath(dir, name)).catch(() => undefined);
        if (!info) continue;
        const relative = `${prefix}${name}`;
        const kind = info.isSymbolicLink() ? 'symlink' : info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'other';
        const unreadable =
          kind === 'symlink'
            ? 'a symbolic link: not followed'
            : kind === 'other'
              ? 'not a regular file'
              : info.uid !== owner
                ? 'not written by you (another owner)'
                : kind === 'file' && info.size > MAX_VIEW_BYTES
                  ? `larger than ${MAX_VIEW_BYTES / 1024} KiB: read it in the terminal (less ${relative})`
                  : undefined;
        entries.push({ path: relative, kind, size: info.size, modifiedAt: info.mtime.toISOString(), ...(unreadable ? { unreadable } : {}) });
        if (kind !== 'directory' || info.uid !== owner) continue;
        if (depth + 1 >= MAX_DEPTH) {
          truncated = true;
          continue;
        }
        // Opened relative to the parent's descriptor, refusing a symlink swapped in since lstat.
        const child = await open(fdPath(dir, name), O_PATH | O_DIRECTORY | O_NOFOLLOW).catch(() => undefined);
        if (!child) continue;
        handles.push(child);
        await walk(child, `${relative}/`, depth + 1);
        await child.close().catch(() => {});
        handles.splice(handles.indexOf(child), 1);
      }
    };
    await walk(top, '', 0);
  } finally {
    await Promise.all(handles.map((handle) => handle.close().catch(() => {})));
  }
  return { entries, truncated };
}

/** Text that is valid UTF-8 with no NUL byte; anything else is binary and not shown. */
function asText(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return undefined;
  }
}

/** One file's content for the viewer: text, or that it is binary, or why it is not read. */
export async function viewWorkspaceFile(workspace: string, relative: string): Promise<WorkspaceFileView> {
  const read = await readWorkspaceFile(workspace, relative, { maxBytes: MAX_VIEW_BYTES });
  if (!read.ok) return { path: relative, kind: 'refused', reason: read.reason };
  const text = asText(read.content);
  return text === undefined ? { path: relative, size: read.content.length, kind: 'binary' } : { path: relative, size: read.content.length, kind: 'text', text };
}
