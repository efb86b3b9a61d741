/**
 * Where a lab run's cluster comes from. Every source starts the cluster's pod runtime, so that
 * `kubectl exec`, `cp` and `logs` act on the pods' own trees (the evidence step needs them).
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';

import type { OwnerFile } from '../cluster/pool-state.ts';
import type { ClaimedCluster, WarmPool } from '../cluster/warm-pool.ts';
import { PodRuntime } from '../cluster/pod-runtime.ts';
import type { ClusterInfo, ClusterProvider } from '../cluster/types.ts';

export interface ClusterSource {
  provider: ClusterProvider;
  /** A ready cluster for a new run, its pod runtime running. */
  acquire(onProgress: (message: string) => void): Promise<ClusterInfo>;
  /** Stops the cluster's pod runtime and deletes the cluster. */
  release(name: string): Promise<void>;
  /**
   * The cluster, if this source handed it out in this process and it still exists. A cluster a
   * crashed server left (reaped at start, or running without its pod runtime) or one the
   * watchdog had to give up on is not found: the lab then seeds a fresh one.
   */
  find(name: string): Promise<ClusterInfo | undefined>;
}

/**
 * A fresh cluster per run (tests, `irlab test`): create, then start its pod runtime. Where pods
 * are real containers (kind), the node's kubelet runs them: they need none.
 */
export function freshClusters(provider: ClusterProvider): ClusterSource {
  const runtimes = new Map<string, PodRuntime | undefined>();
  return {
    provider,
    async acquire(onProgress) {
      const cluster = await provider.create({ onStep: onProgress });
      try {
        runtimes.set(cluster.name, provider.capabilities.realContainers ? undefined : await PodRuntime.start(cluster));
      } catch (error) {
        await provider.delete(cluster.name).catch(() => {});
        throw error;
      }
      return cluster;
    },
    async release(name) {
      await runtimes.get(name)?.stop().catch(() => {});
      runtimes.delete(name);
      await provider.delete(name).catch(() => {});
    },
    async find(name) {
      if (!runtimes.has(name)) return undefined;
      return (await provider.list()).find((c) => c.name === name);
    },
  };
}

/** The server's warm pool (started by `pool()` on first use): a ready cluster at once when one is waiting. */
export function pooledClusters(provider: ClusterProvider, pool: () => Promise<WarmPool>): ClusterSource {
  const claimed = new Map<string, ClaimedCluster>();
  return {
    provider,
    async acquire(onProgress) {
      const claim = await (await pool()).claim();
      onProgress(claim.warm ? 'claimed a ready cluster from the warm pool' : 'created a cluster (the pool was empty)');
      claimed.set(claim.cluster.name, claim);
      return claim.cluster;
    },
    async release(name) {
      const claim = claimed.get(name);
      claimed.delete(name);
      if (claim) await claim.release().catch(() => {});
      else await provider.delete(name).catch(() => {});
    },
    async find(name) {
      const claim = claimed.get(name);
      if (!claim) return undefined;
      // The pool lets go of a claimed cluster its watchdog could not repair (it deletes it).
      if (!(await pool()).holds(name)) {
        claimed.delete(name);
        return undefined;
      }
      return claim.cluster;
    },
  };
}

/**
 * Lab clusters on a provider whose pods are real containers (kind), for a server that runs its
 * labs there (IRLAB_LAB_ENGINE=kind): a cluster per run, recorded in `owner` before it is created
 * and struck off once deleted, so the next server reaps what a crashed one left (the warm pool
 * deletes the `others` of dead owners). Waiting learners are served by the incident shelf
 * (IRLAB_LAB_PREPARED): it seeds whole incidents ahead of time, which is what a learner waits for.
 */
export function ownedClusters(provider: ClusterProvider, owner: Pick<OwnerFile, 'add' | 'remove'>): ClusterSource & { releaseAll(): Promise<void> } {
  // Every cluster this source handed out, by name: the very object acquire returned (the lab
  // service puts the learner's credential on it), so a lookup lists no state directory.
  const handedOut = new Map<string, ClusterInfo>();
  const release = async (name: string) => {
    handedOut.delete(name);
    await provider.delete(name).catch(() => {});
    await owner.remove(name, provider.name);
  };
  return {
    provider,
    async acquire(onProgress) {
      const name = `lab-${randomBytes(6).toString('hex')}`;
      await owner.add(name, provider.name);
      try {
        const cluster = await provider.create({ name, onStep: onProgress });
        handedOut.set(cluster.name, cluster);
        return cluster;
      } catch (error) {
        await owner.remove(name, provider.name);
        throw error;
      }
    },
    release,
    async find(name) {
      const cluster = handedOut.get(name);
      // Deleted behind the server's back (`irlab cluster delete`): one stat, and the run gets a fresh one.
      if (!cluster || !(await exists(cluster.kubeconfigPath))) return undefined;
      return cluster;
    },
    /** At shutdown: every cluster handed out goes (their runs get fresh ones, progress kept). */
    async releaseAll() {
      for (const name of [...handedOut.keys()]) await release(name);
    },
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
