// A warm pool of embedded clusters: learners must not wait for etcd and the
// API server. The pool keeps `size` ready, unclaimed clusters (each with its
// pod runtime already watching), hands one out at once on claim, refills in
// the background (one create at a time: the machine has 2 cores), replaces
// a cluster that waited unclaimed longer than `idleTtlMs` (fresh etcd, fresh
// certificates, bounded age), and deletes everything it owns on shutdown.
// Ownership is also on disk (pool-state.ts): after a crash, the next pool to
// start reaps what the dead one left. With `watchdog` set, every cluster the
// pool holds (ready or claimed) is watched (cluster-watchdog.ts): a dead
// component is restarted; a cluster that cannot be repaired is deleted, and
// refilled when it was a ready one (a claimed one's holder finds it gone).

import { randomBytes } from 'node:crypto';

import { ClusterWatchdog, type WatchdogEvent, type WatchdogOptions } from './cluster-watchdog.ts';
import { checkClusterName, type EmbeddedProvider } from './embedded-provider.ts';
import { PodRuntime } from './pod-runtime.ts';
import { OwnerFile, reapCluster, reapDeadOwners, type DeleteOther, type ReapReport } from './pool-state.ts';
import { systemClock, type Clock } from './runtime.ts';
import type { ClusterInfo, CreateClusterOptions } from './types.ts';

export interface WarmPoolOptions {
  provider: EmbeddedProvider;
  /** Ready, unclaimed clusters to keep. 0 = no pool: every claim creates one. */
  size: number;
  /** An unclaimed cluster older than this is deleted and replaced. */
  idleTtlMs: number;
  /** Where the owner file lives, e.g. `$IRLAB_DATA_DIR/cluster-pool`. */
  stateDir: string;
  createOptions?: Omit<CreateClusterOptions, 'name'>;
  /** Cluster names are `<namePrefix>-<12 hex>`. */
  namePrefix?: string;
  clock?: Clock;
  /** Wait after a failed create before the next attempt. */
  retryMs?: number;
  /** Starts a new cluster's pod runtime; default PodRuntime.start (unit tests pass their own). */
  startRuntime?: (cluster: ClusterInfo) => Promise<PodRuntime>;
  onEvent?: (event: PoolEvent) => void;
  /** Watch the pool's clusters and repair or replace broken ones; off when omitted. */
  watchdog?: Pick<WatchdogOptions, 'intervalMs' | 'readyzEveryMs' | 'unreadyStrikes' | 'maxRepairs' | 'concurrency'>;
  /** Deletes a kind cluster listed by a dead owner (the terminal's), when reaping at start. */
  deleteOther?: DeleteOther;
}

export type PoolEvent =
  | { type: 'reaped'; report: ReapReport }
  | { type: 'created'; name: string; ms: number }
  | { type: 'claimed'; name: string; warm: boolean }
  | { type: 'expired'; name: string }
  | { type: 'deleted'; name: string }
  | { type: 'error'; message: string }
  | { type: 'watchdog'; event: WatchdogEvent };

export interface PooledCluster {
  cluster: ClusterInfo;
  runtime: PodRuntime;
  /** clock.now() when it became ready. */
  readyAt: number;
}

export interface ClaimedCluster extends PooledCluster {
  /** True when it came ready from the pool, false when the claim had to create it. */
  warm: boolean;
  /**
   * Deletes the cluster (stops its pod runtime first). A claimed cluster never goes back to the
   * pool: whoever held it had its admin credential and PKI within reach.
   */
  release(): Promise<void>;
}

export class WarmPool {
  private readonly options: WarmPoolOptions;
  private readonly clock: Clock;
  private readonly owner: OwnerFile;
  private readonly ready: PooledCluster[] = [];
  private readonly claimed = new Map<string, PooledCluster>();
  private creating = 0;
  private stopped = false;
  private refilling: Promise<void> | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly waiters: Array<() => void> = [];
  private readonly pending = new Set<Promise<unknown>>();
  private readonly watchdog: ClusterWatchdog | undefined;
  /** Ready clusters to keep: `size` at start, then what resize() set. */
  private target: number;

  private constructor(options: WarmPoolOptions) {
    this.options = options;
    this.target = options.size;
    this.clock = options.clock ?? systemClock;
    this.owner = new OwnerFile(options.stateDir, options.provider.workDir);
    if (options.watchdog) {
      this.watchdog = new ClusterWatchdog({
        ...options.watchdog,
        target: options.provider,
        clock: this.clock,
        replace: (name) => this.giveUp(name),
        onEvent: (event) => this.emit({ type: 'watchdog', event }),
      });
    }
  }

  /** Reaps what dead owners left, then starts filling. Resolves before the pool is full. */
  static async start(options: WarmPoolOptions): Promise<WarmPool> {
    const pool = new WarmPool(options);
    const report = await reapDeadOwners(options.stateDir, pool.clock, options.deleteOther);
    if (report.owners) pool.emit({ type: 'reaped', report });
    pool.refill();
    pool.watchdog?.start();
    const every = Math.max(250, Math.min(options.idleTtlMs / 4, 30_000));
    pool.expiryTimer = setInterval(() => void pool.expire(), every);
    pool.expiryTimer.unref();
    return pool;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** Names of the ready clusters, oldest first. */
  readyNames(): string[] {
    return this.ready.map((p) => p.cluster.name);
  }

  /** Whether a claimed cluster is still the pool's (false once released, or given up as broken). */
  holds(name: string): boolean {
    return this.claimed.has(name);
  }

  /** Names the watchdog watches (tests). */
  watchedNames(): string[] {
    return this.watchdog?.names() ?? [];
  }

  /** Ready clusters the pool keeps now. */
  get size(): number {
    return this.target;
  }

  /**
   * A new number of ready clusters to keep (a class is due: cells/warm-plan.ts). Growing creates in
   * the background, one at a time as always; shrinking deletes the extra ready clusters, oldest
   * first (claimed ones are their learners' and stay). Resolves once the extra ones are deleted.
   */
  async resize(size: number): Promise<void> {
    if (!Number.isInteger(size) || size < 0) throw new Error(`warm pool: a size must be a whole number of 0 or more, not ${size}`);
    if (this.stopped) return;
    this.target = size;
    for (const wake of this.waiters.splice(0)) wake();
    const extra = this.ready.splice(0, Math.max(0, this.ready.length - size));
    for (const pooled of extra) await this.destroy(pooled, 'deleted').catch((err: unknown) => this.emit({ type: 'error', message: (err as Error).message }));
    this.refill();
  }

  /** Resolves when `size` clusters are ready (for start-up and tests). */
  async whenFull(): Promise<void> {
    while (!this.stopped && this.ready.length < this.target) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /**
   * A ready cluster, at once, while the pool holds one; otherwise one created
   * now (as slow as a cold create). Either way the pool refills behind it.
   */
  async claim(): Promise<ClaimedCluster> {
    if (this.stopped) throw new Error('the cluster pool is shut down');
    const warm = this.ready.shift();
    const pooled = warm ?? (await this.createOne());
    this.claimed.set(pooled.cluster.name, pooled);
    this.emit({ type: 'claimed', name: pooled.cluster.name, warm: Boolean(warm) });
    this.refill();
    return { ...pooled, warm: Boolean(warm), release: () => this.destroy(pooled, 'deleted') };
  }

  private emit(event: PoolEvent): void {
    this.options.onEvent?.(event);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => undefined);
    return work;
  }

  /** Tracked as a whole (not just the provider's create), so that shutdown waits for the cluster's runtime too. */
  private createOne(): Promise<PooledCluster> {
    return this.track(this.createTracked());
  }

  private async createTracked(): Promise<PooledCluster> {
    // 48 random bits: labs and drills find their cluster by name, also after a restart reaped it,
    // so a new cluster must not take the name of one someone used before (24 bits made that a
    // matter of luck over a server's lifetime).
    const name = `${this.options.namePrefix ?? 'pool'}-${randomBytes(6).toString('hex')}`;
    checkClusterName(name);
    const started = this.clock.now();
    this.creating++;
    try {
      // On disk before anything starts: a crash from here on is reaped by the next owner.
      await this.owner.add(name);
      const cluster = await this.options.provider.create({ ...this.options.createOptions, name });
      const runtime = await (this.options.startRuntime ?? ((c: ClusterInfo) => PodRuntime.start(c)))(cluster).catch(async (err: unknown) => {
        await this.options.provider.delete(name).catch(() => undefined);
        throw err;
      });
      if (this.stopped) {
        // Shut down while this was being made: nobody gets it, and shutdown has not seen it.
        await runtime.stop().catch(() => undefined);
        await this.options.provider.delete(name).catch(() => reapCluster(this.options.provider.workDir, name, this.clock));
        throw new Error('the cluster pool is shut down');
      }
      this.emit({ type: 'created', name, ms: this.clock.now() - started });
      this.watchdog?.watch(name);
      return { cluster, runtime, readyAt: this.clock.now() };
    } catch (err) {
      await this.owner.remove(name);
      throw err;
    } finally {
      this.creating--;
    }
  }

  /** Background refill, one cluster at a time. */
  private refill(): void {
    if (this.refilling || this.stopped) return;
    this.refilling = (async () => {
      while (!this.stopped && this.ready.length + this.creating < this.target) {
        try {
          const pooled = await this.createOne();
          if (this.stopped) {
            await this.destroy(pooled, 'deleted');
            break;
          }
          // The pool was made smaller while this one was being created.
          if (this.ready.length >= this.target) {
            await this.destroy(pooled, 'deleted');
            continue;
          }
          this.ready.push(pooled);
          for (const wake of this.waiters.splice(0)) wake();
        } catch (err) {
          this.emit({ type: 'error', message: `warm pool: create failed: ${(err as Error).message}` });
          await this.clock.sleep(this.options.retryMs ?? 5_000).catch(() => undefined);
        }
      }
    })().finally(() => {
      this.refilling = undefined;
    });
  }

  private async expire(): Promise<void> {
    const now = this.clock.now();
    const old = this.ready.filter((p) => now - p.readyAt >= this.options.idleTtlMs);
    for (const pooled of old) {
      const i = this.ready.indexOf(pooled);
      if (i < 0) continue;
      this.ready.splice(i, 1);
      this.emit({ type: 'expired', name: pooled.cluster.name });
      await this.destroy(pooled, 'deleted').catch((err: unknown) => this.emit({ type: 'error', message: (err as Error).message }));
    }
    if (old.length) this.refill();
  }

  /** The watchdog could not repair `name`: delete it; a ready one is replaced by the refill. */
  private async giveUp(name: string): Promise<void> {
    const at = this.ready.findIndex((p) => p.cluster.name === name);
    const pooled = at >= 0 ? this.ready.splice(at, 1)[0] : this.claimed.get(name);
    if (!pooled) return;
    await this.destroy(pooled, 'deleted');
    this.refill();
  }

  private async destroy(pooled: PooledCluster, event: 'deleted'): Promise<void> {
    const { name } = pooled.cluster;
    this.watchdog?.unwatch(name);
    this.claimed.delete(name);
    await pooled.runtime.stop().catch(() => undefined);
    await this.track(
      this.options.provider.delete(name).catch(() => reapCluster(this.options.provider.workDir, name, this.clock)),
    );
    await this.owner.remove(name);
    this.emit({ type: event, name });
  }

  /** Deletes every cluster the pool owns (ready, claimed, being created) and its owner file. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.watchdog?.stop();
    for (const wake of this.waiters.splice(0)) wake();
    await this.refilling?.catch(() => undefined);
    await Promise.all([...this.pending].map((p) => p.catch(() => undefined)));
    const all = [...this.ready.splice(0), ...this.claimed.values()];
    await Promise.all(all.map((p) => this.destroy(p, 'deleted').catch(() => undefined)));
    await this.owner.close();
  }
}
