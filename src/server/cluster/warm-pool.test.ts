// A cluster a learner used is never handed to another: whatever is claimed from the warm pool is
// deleted on release, never put back, and no later claim or refill brings its name back. The
// provider is an EmbeddedProvider whose create and delete only make and remove the cluster's
// directory (no processes), so the pool's own bookkeeping is what is tested; the same pool on
// real clusters is tests/integration/warm-pool.test.ts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmbeddedProvider } from './embedded-provider.ts';
import type { PodRuntime } from './pod-runtime.ts';
import { pathExists } from './runtime.ts';
import type { ClusterInfo, CreateClusterOptions } from './types.ts';
import { WarmPool } from './warm-pool.ts';

/** Makes and removes cluster directories only; records what it was asked. */
class DirectoryProvider extends EmbeddedProvider {
  readonly created: string[] = [];
  readonly deleted: string[] = [];
  override async create(options: CreateClusterOptions = {}): Promise<ClusterInfo> {
    const name = options.name!;
    const dir = join(this.workDir, 'clusters', name);
    await mkdir(join(dir, 'pki'), { recursive: true });
    await writeFile(join(dir, 'pki', 'ca.key'), `key of ${name}`);
    this.created.push(name);
    return { name, provider: 'embedded', kubeconfigPath: join(dir, 'kubeconfig.yaml'), auditLogPath: join(dir, 'logs', 'audit.log'), dir };
  }
  override async delete(name: string): Promise<void> {
    this.deleted.push(name);
    await rm(join(this.workDir, 'clusters', name), { recursive: true, force: true });
  }
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-pool-unit-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** A pod runtime whose start waits for `finishRuntime()`; `inRuntime` resolves once a create reached it. */
function heldRuntime() {
  let entered!: () => void;
  const inRuntime = new Promise<void>((resolve) => (entered = resolve));
  let finishRuntime!: () => void;
  const runtimeGate = new Promise<void>((resolve) => (finishRuntime = resolve));
  const startRuntime = async () => {
    entered();
    await runtimeGate;
    return { stop: async () => undefined } as unknown as PodRuntime;
  };
  return { inRuntime, finishRuntime, startRuntime };
}

describe('warm pool release', () => {
  it('deletes a released cluster and never hands its name out again', async () => {
    const provider = new DirectoryProvider({ workDir: join(work, 'kwok'), env: {} });
    const stopped: string[] = [];
    const startRuntime = async (cluster: ClusterInfo) => ({ stop: async () => void stopped.push(cluster.name) }) as unknown as PodRuntime;
    const pool = await WarmPool.start({ provider, size: 2, idleTtlMs: 3_600_000, stateDir: join(work, 'state'), startRuntime, retryMs: 10 });
    const used: string[] = [];
    try {
      await pool.whenFull();
      for (let i = 0; i < 6; i++) {
        const claim = await pool.claim();
        expect(used).not.toContain(claim.cluster.name);
        used.push(claim.cluster.name);
        // The learner's session on it: their key material is in its directory.
        expect(await readFile(join(claim.cluster.dir, 'pki', 'ca.key'), 'utf8')).toBe(`key of ${claim.cluster.name}`);
        await claim.release();
        expect(provider.deleted).toContain(claim.cluster.name);
        expect(stopped).toContain(claim.cluster.name);
        expect(await pathExists(claim.cluster.dir)).toBe(false);
        await pool.whenFull();
        expect(pool.readyNames().filter((n) => used.includes(n))).toEqual([]);
      }
      // Every cluster ever created is either deleted (used) or still ready and unused.
      expect(provider.created.filter((n) => !provider.deleted.includes(n)).sort()).toEqual(pool.readyNames().sort());
    } finally {
      await pool.shutdown();
    }
    expect(provider.created.filter((n) => !provider.deleted.includes(n))).toEqual([]);
  });

  it('deletes a cluster whose cold create was still starting when the pool shut down', async () => {
    const provider = new DirectoryProvider({ workDir: join(work, 'kwok-shutdown'), env: {} });
    const { inRuntime, finishRuntime, startRuntime } = heldRuntime();
    const pool = await WarmPool.start({ provider, size: 0, idleTtlMs: 3_600_000, stateDir: join(work, 'state-shutdown'), startRuntime, retryMs: 10 });
    const claim = pool.claim();
    const claimed = claim.then(() => 'claimed', (error: unknown) => (error as Error).message);
    await inRuntime; // created, its runtime starting: the server is told to stop now
    const shutdown = pool.shutdown();
    finishRuntime();
    await shutdown;
    expect(await claimed).toMatch(/shut down/);
    expect(provider.created).toHaveLength(1);
    expect(provider.deleted).toEqual(provider.created);
  });
});

describe('warm pool resize', () => {
  it('grows in the background to a new size and shrinks by deleting the extra ready clusters, oldest first', async () => {
    const provider = new DirectoryProvider({ workDir: join(work, 'kwok-resize'), env: {} });
    const startRuntime = async () => ({ stop: async () => undefined }) as unknown as PodRuntime;
    const pool = await WarmPool.start({ provider, size: 0, idleTtlMs: 3_600_000, stateDir: join(work, 'state-resize'), startRuntime, retryMs: 10 });
    try {
      expect(pool.readyCount).toBe(0);
      await pool.resize(3);
      expect(pool.size).toBe(3);
      await pool.whenFull();
      expect(pool.readyCount).toBe(3);
      const [oldest] = pool.readyNames();
      // A claimed cluster is its learner's: shrinking never touches it.
      const claimed = await pool.claim();
      expect(claimed.cluster.name).toBe(oldest);
      await pool.whenFull();
      const before = pool.readyNames();
      await pool.resize(1);
      // The newest one stays (the longest until its idle TTL replaces it).
      expect(pool.readyNames()).toEqual([before[2]]);
      expect(pool.holds(claimed.cluster.name)).toBe(true);
      expect(provider.deleted).toHaveLength(2);
      await pool.resize(0);
      expect(pool.readyCount).toBe(0);
      // Only the claimed one is left.
      expect(provider.created.filter((n) => !provider.deleted.includes(n))).toEqual([claimed.cluster.name]);
      await claimed.release();
      await expect(pool.resize(-1)).rejects.toThrow(/whole number/);
    } finally {
      await pool.shutdown();
    }
    expect(provider.created.filter((n) => !provider.deleted.includes(n))).toEqual([]);
  });

  it('deletes a cluster that came ready after the pool was made smaller', async () => {
    const provider = new DirectoryProvider({ workDir: join(work, 'kwok-resize-late'), env: {} });
    const { inRuntime, finishRuntime, startRuntime } = heldRuntime();
    const pool = await WarmPool.start({ provider, size: 0, idleTtlMs: 3_600_000, stateDir: join(work, 'state-resize-late'), startRuntime, retryMs: 10 });
    try {
      await pool.resize(1);
      await inRuntime; // one being created
      await pool.resize(0);
      finishRuntime();
      await expect.poll(() => provider.deleted.length, { timeout: 10_000 }).toBe(1);
      expect(pool.readyCount).toBe(0);
      expect(provider.deleted).toEqual(provider.created);
    } finally {
      await pool.shutdown();
    }
  });
});
