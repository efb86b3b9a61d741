import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { OwnerFile, reapDeadOwners } from './pool-state.ts';
import { processState } from './runtime.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irlab-pool-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('owner files', () => {
  it('list what a live owner holds, and vanish on close', async () => {
    const owner = new OwnerFile(join(dir, 'state'), join(dir, 'work'));
    await owner.add('pool-aaaaaa');
    await owner.add('pool-bbbbbb');
    await owner.remove('pool-aaaaaa');
    expect(await reapDeadOwners(join(dir, 'state'))).toEqual({ owners: 0, clusters: [], processes: 0 });
    await owner.close();
    expect(await readdir(join(dir, 'state'))).toEqual([]);
  });

  it('keep writing after one write failed (the state dir removed under the owner, then back)', async () => {
    const state = join(dir, 'state');
    const owner = new OwnerFile(state, join(dir, 'work'));
    await owner.add('pool-aaaaaa');
    await rm(state, { recursive: true, force: true });
    await expect(owner.remove('pool-aaaaaa')).rejects.toThrow(/ENOENT/);
    await mkdir(state);
    await owner.add('pool-bbbbbb');
    expect(await readdir(state)).toEqual([`owner-${process.pid}.json`]);
    await owner.close();
    expect(await readdir(state)).toEqual([]);
  });

  it("reap a dead owner's clusters: their processes and directories", async () => {
    const workDir = join(dir, 'work');
    const clusterDir = join(workDir, 'clusters', 'pool-cccccc');
    await mkdir(clusterDir, { recursive: true });
    await writeFile(join(clusterDir, 'kwok.yaml'), 'kind: KwokctlConfiguration\n');
    await mkdir(join(workDir, 'inputs', 'pool-cccccc'), { recursive: true });
    // A "component" whose command line names the cluster dir, as the real ones do.
    const component = spawn('sh', ['-c', 'while :; do sleep 1; done', join(clusterDir, 'bin', 'etcd')], { stdio: 'ignore' });
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    await mkdir(join(dir, 'state'));
    await writeFile(
      join(dir, 'state', `owner-${dead.pid}.json`),
      JSON.stringify({ pid: dead.pid, startTicks: 1, workDir, clusters: ['pool-cccccc'] }),
    );
    const report = await reapDeadOwners(join(dir, 'state'));
    expect(report).toMatchObject({ owners: 1, clusters: ['pool-cccccc'] });
    expect(report.processes).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(processState(component.pid!)).not.toBe('running');
    expect(await readdir(join(workDir, 'clusters'))).toEqual([]);
    expect(await readdir(join(workDir, 'inputs'))).toEqual([]);
    expect(await readdir(join(dir, 'state'))).toEqual([]);
  });

  it("reap a dead role owner's (the terminal's) clusters too, kind ones through the provider, keeping the file while one cannot be deleted", async () => {
    const live = new OwnerFile(join(dir, 'state'), join(dir, 'work'), process.pid, 'terminal');
    await live.add('term-000000000000');
    expect(await readdir(join(dir, 'state'))).toEqual([`owner-${process.pid}-terminal.json`]);
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    await writeFile(
      join(dir, 'state', `owner-${dead.pid}-terminal.json`),
      JSON.stringify({ pid: dead.pid, startTicks: 1, workDir: join(dir, 'work'), clusters: [], others: [{ provider: 'kind', name: 'term-111111111111' }] }),
    );
    const deleted: string[] = [];
    let failing = true;
    const deleteOther = async (provider: string, name: string) => {
      if (failing) throw new Error('no engine answers');
      deleted.push(`${provider}/${name}`);
    };
    expect(await reapDeadOwners(join(dir, 'state'), undefined, deleteOther)).toMatchObject({ owners: 1, clusters: [] });
    expect((await readdir(join(dir, 'state'))).sort()).toEqual([`owner-${dead.pid}-terminal.json`, `owner-${process.pid}-terminal.json`].sort());
    failing = false;
    expect(await reapDeadOwners(join(dir, 'state'), undefined, deleteOther)).toMatchObject({ owners: 1, clusters: ['term-111111111111'] });
    expect(deleted).toEqual(['kind/term-111111111111']);
    expect(await readdir(join(dir, 'state'))).toEqual([`owner-${process.pid}-terminal.json`]);
    await live.close();
  });
});
