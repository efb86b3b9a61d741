import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMountPoint } from './mountinfo.ts';
import { chownWorkspace, workspaceVolumeProblem, WorkspaceVolumes } from './workspace-volume.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-workspace-volume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const inRange = (uid: number) => uid >= 200_000 && uid <= 299_999;

describe.skipIf(process.getuid?.() !== 0)('workspace ownership and volumes (root)', () => {
  it('hands the workspace to a new uid without following links or touching what the learner did not own', async () => {
    const outside = path.join(root, 'outside.txt');
    writeFileSync(outside, 'root-owned\n');
    const workspace = path.join(root, 'ws');
    mkdirSync(path.join(workspace, 'sub', 'deep'), { recursive: true });
    writeFileSync(path.join(workspace, 'sub', 'deep', 'notes.txt'), 'mine\n');
    symlinkSync(outside, path.join(workspace, 'link-to-outside'));
    symlinkSync(root, path.join(workspace, 'link-to-dir'));
    writeFileSync(path.join(workspace, 'root-file'), 'server wrote this\n');
    for (const entry of ['sub', 'sub/deep', 'sub/deep/notes.txt', 'link-to-outside', 'link-to-dir']) {
      const file = path.join(workspace, entry);
      if (lstatSync(file).isSymbolicLink()) await import('node:fs/promises').then((fs) => fs.lchown(file, 200_001, 200_001));
      else chownSync(file, 200_001, 200_001);
    }
    await chownWorkspace(workspace, 200_002, 200_002, inRange);
    for (const entry of ['', 'sub', 'sub/deep', 'sub/deep/notes.txt', 'link-to-outside', 'link-to-dir']) expect(lstatSync(path.join(workspace, entry)).uid, entry).toBe(200_002);
    expect(statSync(outside).uid).toBe(0); // the link's target stays root's
    expect(statSync(root).uid).toBe(0); // and the walk did not descend through link-to-dir
    expect(statSync(path.join(workspace, 'root-file')).uid).toBe(0); // not the learner's to begin with
  });

  it('keeps a hard link to a root file root-owned', async () => {
    const workspace = path.join(root, 'hard');
    mkdirSync(workspace);
    const target = path.join(root, 'hard-target');
    writeFileSync(target, 'secret\n');
    linkSync(target, path.join(workspace, 'alias'));
    await chownWorkspace(workspace, 200_003, 200_003, inRange);
    expect(statSync(target).uid).toBe(0);
  });

  it.skipIf(workspaceVolumeProblem() !== null)('makes a size-limited filesystem of an existing workspace that survives an unmount (a restart)', async () => {
    const dataDir = path.join(root, 'data');
    const workspace = path.join(dataDir, 'workspaces', 'ivan');
    mkdirSync(path.join(workspace, '.kube'), { recursive: true });
    writeFileSync(path.join(workspace, 'notes.txt'), 'from before the limit\n');
    const volumes = new WorkspaceVolumes(path.join(dataDir, 'workspace-images'), 32 * 1024 * 1024);
    await volumes.mount('ivan', workspace);
    try {
      expect(isMountPoint(workspace)).toBe(true);
      expect(readFileSync(path.join(workspace, 'notes.txt'), 'utf8')).toBe('from before the limit\n');
      expect(existsSync(path.join(workspace, 'lost+found'))).toBe(false);
      expect(() => writeFileSync(path.join(workspace, 'big'), Buffer.alloc(40 * 1024 * 1024))).toThrow(/ENOSPC/);
      rmSync(path.join(workspace, 'big'), { force: true });
    } finally {
      await volumes.unmountAll();
    }
    expect(isMountPoint(workspace)).toBe(false);
    expect(existsSync(path.join(workspace, 'notes.txt'))).toBe(false); // the old copy is gone from the host dir
    const restarted = new WorkspaceVolumes(path.join(dataDir, 'workspace-images'), 32 * 1024 * 1024);
    expect(await restarted.mountAll((owner) => path.join(dataDir, 'workspaces', owner))).toEqual([]);
    try {
      expect(readFileSync(path.join(workspace, 'notes.txt'), 'utf8')).toBe('from before the limit\n');
    } finally {
      await restarted.unmountAll();
    }
  });
});
