/**
 * Reads files a learner left in their workspace, hardened: only paths inside the workspace
 * (symlinks resolved and re-checked), only regular files, bounded size. Checks never quote file
 * contents back, so a planted symlink cannot turn a check into a file reader.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export const MAX_FILE_BYTES = 16 * 1024 * 1024;

export type WorkspaceRead = { ok: true; content: Buffer } | { ok: false; reason: string };

export async function readWorkspaceFile(workspace: string, relative: string): Promise<WorkspaceRead> {
  if (path.isAbsolute(relative) || path.normalize(relative).startsWith('..')) return { ok: false, reason: `${relative} is outside the workspace` };
  const root = await realpath(workspace);
  const target = path.join(root, relative);
  const exists = await lstat(target).catch(() => undefined);
  if (!exists) return { ok: false, reason: `${relative} is missing` };
  const real = await realpath(target).catch(() => undefined);
  if (!real || (real !== root && !real.startsWith(`${root}${path.sep}`))) return { ok: false, reason: `${relative} points outside the workspace` };
  const info = await stat(real);
  if (!info.isFile()) return { ok: false, reason: `${relative} is not a regular file` };
  if (info.size > MAX_FILE_BYTES) return { ok: false, reason: `${relative} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` };
  return { ok: true, content: await readFile(real) };
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}
