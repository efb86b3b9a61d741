// The warm pool on REAL embedded clusters: claim hands out a cluster that was
// ready before the claim, the pool refills, idle clusters expire, shutdown
// and a crash of the owner (kill -9) leave no process, port or directory.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { clusterPorts, portsStillHeld, processesUnder } from '../../src/server/cluster/host-census.ts';
import { apiServerReady, loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { pathExists, waitUntil } from '../../src/server/cluster/runtime.ts';
import type { ClusterInfo, CreateClusterOptions } from '../../src/server/cluster/types.ts';
import { WarmPool } from '../../src/server/cluster/warm-pool.ts';

const run = promisify(execFile);

/** Records every cluster it creates, so a test can tell a warm claim from a cold one. */
class RecordingProvider extends EmbeddedProvider {
  readonly created: string[] = [];
  override async create(options?: CreateClusterOptions): Promise<ClusterInfo> {
    const info = await super.create(options);
    this.created.push(info.name);
    return info;
  }
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-pool-it-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function clusterDirs(workDir: string): Promise<string[]> {
  return readdir(join(workDir, 'clusters')).catch(() => []);
}

/** Nothing of `workDir` left: no process names it, no cluster dir, none of `ports` held by us (or by no one visible). */
async function expectNothingLeft(workDir: string, ports: number[]) {
  expect(processesUnder(workDir).map((p) => p.command)).toEqual([]);
  expect(await clusterDirs(workDir)).toEqual([]);
  expect((await portsStillHeld(ports, workDir)).held).toEqual([]);
}

describe('warm pool', () => {
  it('hands out a cluster that was ready before the claim, with pods that exec, then refills', async () => {
    const provider = new RecordingProvider({ workDir: join(work, 'a') });
    const pool = await WarmPool.start({ provider, size: 1, idleTtlMs: 3_600_000, stateDir: join(work, 'state-a') });
    try {
      await pool.whenFull();
      const readyBefore = pool.readyNames();
      const createdBefore = [...provider.created];
      const claimed = await pool.claim();
      expect(claimed.warm).toBe(true);
      expect(readyBefore).toEqual([claimed.cluster.name]);
      expect(createdBefore).toContain(claimed.cluster.name);
      expect(await apiServerReady(loadKubeConfig(claimed.cluster.kubeconfigPath))).toBe(true);

      const kubectl = (...args: string[]) => run(join(provider.binDir, 'kubectl'), ['--kubeconfig', claimed.cluster.kubeconfigPath, ...args]);
      await kubectl('run', 'web', '--image=registry.shop.internal/web-app:2.14.1');
      await claimed.runtime.ready('default', 'web');
      expect((await kubectl('exec', 'web', '--', 'cat', '/etc/hostname')).stdout).toBe('web\n');

      await pool.whenFull();
      expect(pool.readyNames()).toHaveLength(1);
      expect(pool.readyNames()[0]).not.toBe(claimed.cluster.name);

      await claimed.release();
      expect(await pathExists(claimed.cluster.dir)).toBe(false);
    } finally {
      await pool.shutdown();
    }
    await expectNothingLeft(join(work, 'a'), []);
  }, 180_000);

  it('replaces a cluster that waited unclaimed past its TTL, and shutdown reaps everything', async () => {
    const workDir = join(work, 'b');
    const provider = new RecordingProvider({ workDir });
    const pool = await WarmPool.start({ provider, size: 1, idleTtlMs: 1_000, stateDir: join(work, 'state-b') });
    const ports: number[] = [];
    try {
      await pool.whenFull();
      const first = pool.readyNames()[0]!;
      ports.push(...clusterPorts(join(workDir, 'clusters', first)));
      expect(ports.length).toBeGreaterThanOrEqual(5);
      await waitUntil(async () => !(await pathExists(join(workDir, 'clusters', first))), { timeoutMs: 60_000, what: 'the idle cluster to expire' });
      await waitUntil(async () => pool.readyCount === 1 && pool.readyNames()[0] !== first, { timeoutMs: 90_000, what: 'the replacement' });
      ports.push(...clusterPorts(join(workDir, 'clusters', pool.readyNames()[0]!)));
    } finally {
      await pool.shutdown();
    }
    await expectNothingLeft(workDir, ports);
    expect(await readdir(join(work, 'state-b'))).toEqual([]);
  }, 240_000);

  it('resizes at run time: 0 -> 2 real clusters ready, then back to 0 with nothing left running', async () => {
    const workDir = join(work, 'resize');
    const provider = new RecordingProvider({ workDir });
    const pool = await WarmPool.start({ provider, size: 0, idleTtlMs: 3_600_000, stateDir: join(work, 'state-resize') });
    const ports: number[] = [];
    try {
      expect(await clusterDirs(workDir)).toEqual([]);
      await pool.resize(2);
      await pool.whenFull();
      expect(pool.readyCount).toBe(2);
      for (const name of pool.readyNames()) {
        ports.push(...clusterPorts(join(workDir, 'clusters', name)));
        const cluster = (await provider.list()).find((c) => c.name === name)!;
        expect(await apiServerReady(loadKubeConfig(cluster.kubeconfigPath))).toBe(true);
      }
      await pool.resize(0);
      expect(pool.readyCount).toBe(0);
      // Deleted by the resize itself, before shutdown: processes, directories and ports.
      await expectNothingLeft(workDir, ports);
    } finally {
      await pool.shutdown();
    }
    expect(provider.created).toHaveLength(2);
  }, 240_000);

  it('reaps the clusters of an owner killed with SIGKILL, even one it was still creating', async () => {
    const workDir = join(work, 'c');
    const stateDir = join(work, 'state-c');
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'pool-owner.ts'), stateDir, workDir, '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const created = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => line.startsWith('CREATED ') && resolve(line.slice(8)));
      child.once('exit', (code) => reject(new Error(`pool owner exited early (${code})`)));
    });
    // The second cluster is under way: its directory exists, its create has not finished.
    await waitUntil(async () => (await clusterDirs(workDir)).length === 2, { timeoutMs: 30_000, what: 'the second create to start' });
    const ports = clusterPorts(join(workDir, 'clusters', created));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(processesUnder(workDir).length).toBeGreaterThan(0); // orphans exist: the test means something

    const next = await WarmPool.start({ provider: new EmbeddedProvider({ workDir }), size: 0, idleTtlMs: 60_000, stateDir });
    try {
      await expectNothingLeft(workDir, ports);
      expect((await readdir(stateDir)).filter((f) => f !== `owner-${process.pid}.json`)).toEqual([]);
    } finally {
      await next.shutdown();
    }
  }, 180_000);
});
