// The Files tab's server side on a real directory: the listing never follows a symlink (a link
// to a secret outside the workspace is listed as a link, its target neither listed nor read),
// files of another owner are not shown, binary is detected, hostile names come back as data.
import { chown, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listWorkspace, MAX_VIEW_BYTES, viewWorkspaceFile } from './workspace-listing.ts';

let work: string;
let workspace: string;
let secretDir: string;
const SECRET = 'instructor-token-0123456789';

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-files-'));
  workspace = path.join(work, 'workspace');
  secretDir = path.join(work, 'server-secrets');
  await mkdir(workspace, { mode: 0o700 });
  await mkdir(secretDir, { mode: 0o700 });
  await writeFile(path.join(secretDir, 'token'), SECRET);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('listWorkspace', () => {
  it('lists files and directories with size and time; a symlink is listed as one and never followed', async () => {
    await writeFile(path.join(workspace, 'pod-describe.txt'), 'Name: web-app\n');
    await mkdir(path.join(workspace, 'evidence', 'tmp'), { recursive: true });
    await writeFile(path.join(workspace, 'evidence', 'tmp', 'x.sh'), '#!/bin/sh\n');
    await symlink(path.join(secretDir, 'token'), path.join(workspace, 'notes.txt'));
    await symlink(secretDir, path.join(workspace, 'secrets'));
    const { entries, truncated } = await listWorkspace(workspace);
    expect(truncated).toBe(false);
    expect(entries.map((e) => [e.path, e.kind])).toEqual([
      ['evidence', 'directory'],
      ['evidence/tmp', 'directory'],
      ['evidence/tmp/x.sh', 'file'],
      ['notes.txt', 'symlink'],
      ['pod-describe.txt', 'file'],
      ['secrets', 'symlink'],
    ]);
    expect(entries.find((e) => e.path === 'pod-describe.txt')).toMatchObject({ size: 14, modifiedAt: expect.stringMatching(/^\d{4}-/) });
    expect(entries.find((e) => e.path === 'notes.txt')!.unreadable).toMatch(/symbolic link: not followed/);
    expect(JSON.stringify(entries)).not.toContain('token');
  });

  it('does not show the content of a symlink to a secret, of a link through a linked directory, or of another owner\'s file', async () => {
    await symlink(path.join(secretDir, 'token'), path.join(workspace, 'notes.txt'));
    await symlink(secretDir, path.join(workspace, 'secrets'));
    for (const wanted of ['notes.txt', 'secrets/token', '../server-secrets/token', path.join(secretDir, 'token')]) {
      const view = await viewWorkspaceFile(workspace, wanted);
      expect(view.kind, wanted).toBe('refused');
      expect(JSON.stringify(view)).not.toContain(SECRET);
    }
    // A hard link to a file the workspace's owner does not own (root-only: chown).
    if (process.getuid?.() === 0) {
      await chown(path.join(secretDir, 'token'), 12345, 12345);
      await link(path.join(secretDir, 'token'), path.join(workspace, 'hard'));
      const view = await viewWorkspaceFile(workspace, 'hard');
      expect(view).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/not owned by the workspace's owner/) });
      expect((await listWorkspace(workspace)).entries.find((e) => e.path === 'hard')!.unreadable).toMatch(/another owner/);
    }
  });

  it('shows text, detects binary, refuses what is too large to view', async () => {
    await writeFile(path.join(workspace, 'a.txt'), 'héllo\n');
    await writeFile(path.join(workspace, 'b.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
    await writeFile(path.join(workspace, 'c.latin1'), Buffer.from([0x68, 0xe9, 0x6c]));
    await writeFile(path.join(workspace, 'big.log'), 'x'.repeat(MAX_VIEW_BYTES + 1));
    expect(await viewWorkspaceFile(workspace, 'a.txt')).toEqual({ path: 'a.txt', size: 7, kind: 'text', text: 'héllo\n' });
    expect(await viewWorkspaceFile(workspace, 'b.bin')).toEqual({ path: 'b.bin', size: 7, kind: 'binary' });
    expect(await viewWorkspaceFile(workspace, 'c.latin1')).toMatchObject({ kind: 'binary' });
    expect(await viewWorkspaceFile(workspace, 'big.log')).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/larger than/) });
    expect((await listWorkspace(workspace)).entries.find((e) => e.path === 'big.log')!.unreadable).toMatch(/larger than 256 KiB/);
  });

  it('returns hostile names as they are (the page shows them as text), and stops at its entry limit', async () => {
    const names = ['<img src=x onerror=alert(1)>.txt', 'tab\there\u001b[31mred', 'x'.repeat(250)];
    for (const name of names) await writeFile(path.join(workspace, name), 'x');
    const { entries } = await listWorkspace(workspace);
    expect(entries.map((e) => e.path).sort()).toEqual([...names].sort());
    await mkdir(path.join(workspace, 'many'));
    await Promise.all(Array.from({ length: 600 }, (_, i) => writeFile(path.join(workspace, 'many', `f${i}`), '')));
    const listed = await listWorkspace(workspace);
    expect(listed.truncated).toBe(true);
    expect(listed.entries.length).toBe(500);
  });

  it('gives an empty list when there is no workspace yet', async () => {
    expect(await listWorkspace(path.join(work, 'nobody'))).toEqual({ entries: [], truncated: false });
  });
});
