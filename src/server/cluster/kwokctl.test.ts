import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPids } from './kwokctl.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('readPids', () => {
  it('skips a pid file that is gone by the time it is read (a cluster being deleted)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'irlab-pids-'));
    await writeFile(join(dir, 'etcd.pid'), '4242\n');
    // Listed by readdir, unreadable: what a file removed between readdir and readFile looks like.
    await symlink(join(dir, 'removed'), join(dir, 'kube-controller-manager.pid'));
    expect(await readPids(dir)).toEqual([{ component: 'etcd', pid: 4242, file: join(dir, 'etcd.pid') }]);
  });
});
