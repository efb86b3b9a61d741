// A health watchdog for the clusters a server owns. An embedded cluster is five processes
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller in the pod
// sandbox); when one dies nothing else restarts it, and a learner's kubectl says EOF until Reset.
// The watchdog notices and repairs:
//   - every `intervalMs`, each cluster's pid files are read and each pid looked up in /proc
//     (no request, no child process: cheap enough for ~50 clusters every few seconds);
//   - every `readyzEveryMs`, per cluster and spread over the interval, GET /readyz (an API server
//     whose process lives but hangs, or whose etcd is gone, answers no);
//   - a dead component, or /readyz failing `unreadyStrikes` times in a row, is repaired (the
//     provider restarts what is dead, the API server too when it is the one not answering);
//   - a cluster that is still broken after `maxRepairs` repairs in a row is handed to `replace`
//     (the pool deletes it; whoever held it finds it gone and gets a fresh one).
// Repairs run at most `concurrency` at a time: after a host-wide fault (the OOM killer) fifty
// clusters restarting at once would starve the two cores they share.

import { systemClock, type Clock } from './runtime.ts';

/** What the watchdog needs of a provider. */
export interface WatchTarget {
  /** Components whose process is gone (or a zombie); cheap, local. */
  deadComponents(name: string): Promise<string[]>;
  /** GET /readyz answered ok (false or a throw: not ready). */
  ready(name: string): Promise<boolean>;
  /** Restarts dead components (and the API server when `unready`); throws when it could not. */
  repair(name: string, problem: Problem): Promise<void>;
  /** True while something else restarts the API server on purpose (an audit-policy swap). */
  busy?(name: string): boolean;
}

export interface Problem {
  dead: string[];
  /** /readyz kept failing although no process died. */
  unready: boolean;
}

export type WatchdogEvent =
  | { type: 'broken'; name: string; problem: Problem }
  | { type: 'repaired'; name: string; problem: Problem; ms: number }
  | { type: 'repair-failed'; name: string; problem: Problem; message: string; attempt: number }
  | { type: 'replaced'; name: string; why: string };

export interface WatchdogOptions {
  target: WatchTarget;
  /** Gives up on a cluster that cannot be repaired (delete it; its holder gets a new one). */
  replace: (name: string, why: string) => Promise<void>;
  clock?: Clock;
  intervalMs?: number;
  readyzEveryMs?: number;
  unreadyStrikes?: number;
  maxRepairs?: number;
  concurrency?: number;
  onEvent?: (event: WatchdogEvent) => void;
}

interface Watched {
  name: string;
  /** clock.now() of the next /readyz; staggered so that fifty clusters do not ask at once. */
  nextReadyz: number;
  strikes: number;
  failedRepairs: number;
  repairing: boolean;
}

export class ClusterWatchdog {
  private readonly options: WatchdogOptions;
  private readonly clock: Clock;
  private readonly watched = new Map<string, Watched>();
  private readonly repairs = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(options: WatchdogOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  private get readyzEveryMs(): number {
    return this.options.readyzEveryMs ?? 30_000;
  }

  watch(name: string): void {
    if (this.watched.has(name)) return;
    const spread = (this.watched.size * 997) % Math.max(1, this.readyzEveryMs);
    this.watched.set(name, { name, nextReadyz: this.clock.now() + spread, strikes: 0, failedRepairs: 0, repairing: false });
  }

  unwatch(name: string): void {
    this.watched.delete(name);
  }

  names(): string[] {
    return [...this.watched.keys()];
  }

  /** Checks every cluster once; starts repairs in the background (see `settled`). */
  async tick(): Promise<void> {
    const now = this.clock.now();
    for (const entry of [...this.watched.values()]) {
      if (entry.repairing || this.options.target.busy?.(entry.name)) continue;
      const dead = await this.options.target.deadComponents(entry.name).catch(() => []);
      let unready = false;
      if (dead.length === 0 && now >= entry.nextReadyz) {
        entry.nextReadyz = now + this.readyzEveryMs;
        const ok = await this.options.target.ready(entry.name).catch(() => false);
        entry.strikes = ok ? 0 : entry.strikes + 1;
        // A failed /readyz is asked again next tick, not a whole readyz period later.
        if (!ok) entry.nextReadyz = now;
        unready = entry.strikes >= (this.options.unreadyStrikes ?? 2);
      }
      if (dead.length === 0 && !unready) {
        if (entry.strikes === 0) entry.failedRepairs = 0;
        continue;
      }
      if (this.repairs.size >= (this.options.concurrency ?? 2)) continue; // next tick
      this.startRepair(entry, { dead, unready });
    }
  }

  private startRepair(entry: Watched, problem: Problem): void {
    entry.repairing = true;
    this.emit({ type: 'broken', name: entry.name, problem });
    const started = this.clock.now();
    const work = (async () => {
      try {
        await this.options.target.repair(entry.name, problem);
        entry.strikes = 0;
        entry.failedRepairs = 0;
        this.emit({ type: 'repaired', name: entry.name, problem, ms: this.clock.now() - started });
      } catch (error) {
        entry.failedRepairs++;
        const message = error instanceof Error ? error.message : String(error);
        this.emit({ type: 'repair-failed', name: entry.name, problem, message, attempt: entry.failedRepairs });
        if (entry.failedRepairs >= (this.options.maxRepairs ?? 3) && this.watched.get(entry.name) === entry) {
          this.watched.delete(entry.name);
          const why = `${describe(problem)}; ${entry.failedRepairs} repairs failed, the last: ${message}`;
          await this.options.replace(entry.name, why).catch(() => undefined);
          this.emit({ type: 'replaced', name: entry.name, why });
        }
      } finally {
        entry.repairing = false;
      }
    })();
    this.repairs.add(work);
    void work.finally(() => this.repairs.delete(work));
  }

  /** Resolves when the repairs under way have ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.repairs.size) await Promise.all([...this.repairs]);
  }

  /** Ticks every `intervalMs` until stop(). */
  start(): void {
    if (this.loop) return;
    const signal = this.stopping.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        await this.tick().catch(() => undefined);
        await this.clock.sleep(this.options.intervalMs ?? 5_000, signal).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.settled();
  }

  private emit(event: WatchdogEvent): void {
    this.options.onEvent?.(event);
  }
}

export function describe(problem: Problem): string {
  const parts = problem.dead.map((c) => `${c} died`);
  if (problem.unready) parts.push('kube-apiserver does not answer /readyz');
  return parts.join(', ') || 'nothing';
}
