import { chown, lstat, mkdir, mkdtemp, stat, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeWorkspaceFile } from './workspace-write.ts';

let work: string;
let workspace: string;
let outside: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-ws-write-'));
  workspace = path.join(work, 'workspace');
  outside = path.join(work, 'outside');
  await mkdir(workspace);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret'), 'keep me');
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('writeWorkspaceFile', () => {
  it('writes node-evidence/<file>, and again over the old one', async () => {
    await writeWorkspaceFile(workspace, 'node-evidence', 'crictl-ps.json', Buffer.from('one'));
    await writeWorkspaceFile(workspace, 'node-evidence', 'crictl-ps.json', Buffer.from('two'));
    expect(await readFile(path.join(workspace, 'node-evidence', 'crictl-ps.json'), 'utf8')).toBe('two');
  });

  // The server runs as root; the workspace belongs to the learner's sandbox uid. Found through
  // the real server on kind: giving the new directory away went through /proc/self/fd/<n>, a link
  // that O_NOFOLLOW refuses (ENOTDIR, a 500).
  it.skipIf(process.getuid?.() !== 0)('as root, gives a directory and file it made to the workspace\'s owner', async () => {
    await chown(workspace, 4242, 4242);
    await writeWorkspaceFile(workspace, 'node-evidence', 'crictl-ps.json', Buffer.from('one'));
    for (const made of ['node-evidence', 'node-evidence/crictl-ps.json']) expect((await stat(path.join(workspace, made))).uid, made).toBe(4242);
  });

  it('refuses a node-evidence that is a symlink out of the workspace, writing nothing there', async () => {
    await symlink(outside, path.join(workspace, 'node-evidence'));
    await expect(writeWorkspaceFile(workspace, 'node-evidence', 'secret', Buffer.from('x'))).rejects.toThrow(/not a directory/);
    expect(await readFile(path.join(outside, 'secret'), 'utf8')).toBe('keep me');
  });

  it('replaces a symlink the learner put at the file name with a file, never writing through it', async () => {
    await mkdir(path.join(workspace, 'node-evidence'));
    await symlink(path.join(outside, 'secret'), path.join(workspace, 'node-evidence', 'files-tmp.txt'));
    await writeWorkspaceFile(workspace, 'node-evidence', 'files-tmp.txt', Buffer.from('listing'));
    expect(await readFile(path.join(outside, 'secret'), 'utf8')).toBe('keep me');
    expect((await lstat(path.join(workspace, 'node-evidence', 'files-tmp.txt'))).isFile()).toBe(true);
    await expect(readlink(path.join(workspace, 'node-evidence', 'files-tmp.txt'))).rejects.toThrow();
  });

  it('refuses names that are not plain', async () => {
    for (const [dir, file] of [['..', 'x'], ['node-evidence', '../x'], ['node-evidence', 'a/b'], ['', 'x'], ['node-evidence', '.hidden']]) {
      await expect(writeWorkspaceFile(workspace, dir!, file!, Buffer.from('x'))).rejects.toThrow(/plain name/);
    }
  });
});
