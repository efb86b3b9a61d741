// The server process's warm pool, configured from the environment:
//   IRLAB_WARM_POOL_SIZE               ready clusters to keep (default 1; 0 = create on claim)
//   IRLAB_WARM_POOL_IDLE_TTL_SECONDS   replace a cluster unclaimed this long (default 1800)
//   IRLAB_WATCHDOG_SECONDS             how often the pool's clusters' processes are looked at
//                                      (default 5; 0 = no watchdog: a dead component stays dead)
//   IRLAB_WATCHDOG_READYZ_SECONDS      how often each cluster's /readyz is asked (default 30)
// Its owner file lives in `${IRLAB_DATA_DIR:-.irlab/data}/cluster-pool`, so the
// next start after a crash reaps what this process left. SIGINT and SIGTERM
// shut the pool down (every cluster it owns is deleted) before the process exits.

import { join } from 'node:path';

import { dataDir } from '../store/database.ts';
import { describe as describeProblem } from './cluster-watchdog.ts';
import { EmbeddedProvider } from './embedded-provider.ts';
import { KindProvider } from './kind-provider.ts';
import { ClusterError } from './types.ts';
import { WarmPool, type PoolEvent } from './warm-pool.ts';

export interface PoolConfig {
  size: number;
  idleTtlMs: number;
  stateDir: string;
  /** Off when IRLAB_WATCHDOG_SECONDS=0. */
  watchdog?: { intervalMs: number; readyzEveryMs: number };
}

function whole(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ClusterError(`${key}=${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`, `Set ${key} to, for example, ${fallback}, or unset it.`);
  }
  return value;
}

export function poolConfigFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): PoolConfig {
  return {
    size: whole(env, 'IRLAB_WARM_POOL_SIZE', 1, 0, 50),
    idleTtlMs: whole(env, 'IRLAB_WARM_POOL_IDLE_TTL_SECONDS', 1800, 10, 7 * 24 * 3600) * 1000,
    stateDir: join(dataDir(env, cwd), 'cluster-pool'),
    ...watchdogConfig(env),
  };
}

function watchdogConfig(env: NodeJS.ProcessEnv): Pick<PoolConfig, 'watchdog'> {
  const every = whole(env, 'IRLAB_WATCHDOG_SECONDS', 5, 0, 3600);
  const readyz = whole(env, 'IRLAB_WATCHDOG_READYZ_SECONDS', 30, 1, 3600);
  return every === 0 ? {} : { watchdog: { intervalMs: every * 1000, readyzEveryMs: readyz * 1000 } };
}

// One pool per process, even though serve.ts and Astro's bundled endpoints each load their own
// copy of this module: the pool lives on globalThis, not in a module variable.
const POOL = Symbol.for('irlab.serverPool');
const slot = globalThis as { [POOL]?: Promise<WarmPool> };

/** The process's pool, started on first use. */
export function serverPool(env: NodeJS.ProcessEnv = process.env, log: (event: PoolEvent) => void = logPoolEvent): Promise<WarmPool> {
  slot[POOL] ??= (async () => {
    const config = poolConfigFromEnv(env);
    const pool = await WarmPool.start({
      provider: new EmbeddedProvider({ env }),
      ...config,
      onEvent: log,
      // The terminal's kind clusters are listed in owner files beside the pool's.
      deleteOther: (provider, name) => (provider === 'kind' ? new KindProvider({ env }).delete(name) : Promise.reject(new Error(`unknown provider ${provider}`))),
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void shutdownServerPool().finally(() => process.kill(process.pid, signal));
      });
    }
    return pool;
  })();
  return slot[POOL];
}

const SHUTDOWN = Symbol.for('irlab.serverPoolShutdown');
const shutdownSlot = globalThis as { [SHUTDOWN]?: Promise<void> };

/**
 * Deletes every cluster of the process's pool (ready, claimed, being created), once, however
 * many callers ask. A process with its own signal handling (serve.ts) must await this before it
 * exits: exiting first leaves the clusters running, and if the data dir goes too (a test's temp
 * dir), nothing will ever reap them.
 */
export function shutdownServerPool(): Promise<void> {
  const pool = slot[POOL];
  shutdownSlot[SHUTDOWN] ??= pool ? pool.then((p) => p.shutdown(), () => undefined) : Promise.resolve();
  return shutdownSlot[SHUTDOWN];
}

function logPoolEvent(event: PoolEvent): void {
  if (event.type === 'reaped') {
    console.error(`irlab: reaped ${event.report.clusters.length} cluster(s) left by a crashed server (${event.report.processes} processes)`);
  } else if (event.type === 'error') {
    console.error(`irlab: ${event.message}`);
  } else if (event.type === 'created') {
    // One line per cluster: operators see the pool refill, bench:lab waits for it.
    console.log(`irlab: warm pool: ${event.name} ready in ${(event.ms / 1000).toFixed(1)} s`);
  } else if (event.type === 'watchdog') {
    const w = event.event;
    if (w.type === 'broken') console.error(`irlab: watchdog: cluster ${w.name}: ${describeProblem(w.problem)}; restarting it`);
    else if (w.type === 'repaired') console.log(`irlab: watchdog: cluster ${w.name} repaired in ${(w.ms / 1000).toFixed(1)} s`);
    else if (w.type === 'repair-failed') console.error(`irlab: watchdog: cluster ${w.name}: repair ${w.attempt} failed: ${w.message}`);
    else console.error(`irlab: watchdog: cluster ${w.name} deleted, it could not be repaired (${w.why}); its lab gets a new one on its next request`);
  } else if (event.type === 'claimed') {
    console.log(`irlab: warm pool: ${event.name} claimed ${event.warm ? 'warm' : 'cold (the pool was empty)'}`);
  }
}
