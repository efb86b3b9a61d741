/**
 * The server writing a file into a learner's workspace (node evidence it collected for them).
 * The server runs privileged and the learner controls every name in the workspace, so, as in
 * workspace-files.ts, no path is resolved and then used: the workspace is opened with O_NOFOLLOW,
 * its subdirectory relative to that descriptor with O_NOFOLLOW (a symlink there is refused), the
 * old file unlinked by name in that directory (unlinking a symlink removes the link, never its
 * target) and the new one created with O_CREAT | O_EXCL | O_NOFOLLOW, so whatever the learner
 * put there in between makes the write fail rather than land elsewhere. The file is then given
 * to the workspace's owner, so it is the learner's own like anything they saved.
 */
import { constants } from 'node:fs';
import { mkdir, open, realpath, unlink, type FileHandle } from 'node:fs/promises';

const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_WRONLY, O_CREAT, O_EXCL } = constants;

const fdPath = (handle: FileHandle, name?: string) => `/proc/self/fd/${handle.fd}${name === undefined ? '' : `/${name}`}`;
/** One plain name: no separator, no dot names, printable. */
const SAFE_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]{0,200}$/;

export class WorkspaceWriteError extends Error {
  override name = 'WorkspaceWriteError';
}

/** Writes `content` as `<workspace>/<dir>/<file>`; `dir` and `file` are the server's own names. */
export async function writeWorkspaceFile(workspace: string, dir: string, file: string, content: Buffer, signal?: AbortSignal): Promise<void> {
  if (!SAFE_NAME.test(dir) || !SAFE_NAME.test(file)) throw new WorkspaceWriteError(`refusing to write ${dir}/${file}: not a plain name`);
  signal?.throwIfAborted();
  const handles: FileHandle[] = [];
  try {
    const root = await realpath(workspace);
    const top = await open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    handles.push(top);
    const { uid, gid } = await top.stat();
    await mkdir(fdPath(top, dir), { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    let sub: FileHandle;
    try {
      sub = await open(fdPath(top, dir), O_PATH | O_DIRECTORY | O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR') throw new WorkspaceWriteError(`${dir} in your workspace is not a directory (the server does not follow symbolic links): remove it, and collect again`);
      throw error;
    }
    handles.push(sub);
    const made = await sub.stat();
    if (made.uid !== uid && made.uid !== process.getuid?.()) throw new WorkspaceWriteError(`${dir} in your workspace is not yours: remove it, and collect again`);
    signal?.throwIfAborted();
    await unlink(fdPath(sub, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    const out = await open(fdPath(sub, file), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    handles.push(out);
    await out.writeFile(content);
    // Root gives the file (and a directory it made) to the learner; anyone else already owns them.
    if (process.getuid?.() === 0) {
      await out.chown(uid, gid);
      if (made.uid !== uid) {
        // Not through /proc/self/fd/<sub>: that is a link, which O_NOFOLLOW refuses (ENOTDIR).
        // By name from the workspace again, refusing a link, and only if it is still the same directory.
        const dirHandle = await open(fdPath(top, dir), constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        handles.push(dirHandle);
        const again = await dirHandle.stat();
        if (again.ino !== made.ino || again.dev !== made.dev) throw new WorkspaceWriteError(`${dir} in your workspace changed while the server wrote to it: collect again`);
        await dirHandle.chown(uid, gid);
      }
    }
  } finally {
    await Promise.all(handles.map((handle) => handle.close().catch(() => undefined)));
  }
}
