/**
 * The server's pool of query workers (POST /api/query): every query runs in a worker thread with
 * a time budget and a memory limit, never on the event loop that serves terminals and pages.
 * Env: IRLAB_QUERY_BUDGET_SECONDS (5), IRLAB_QUERY_WORKERS (CPU cores − 1, at least 1),
 * IRLAB_QUERY_QUEUE (16 waiting queries), IRLAB_QUERY_WORKER_MEMORY_MB (512).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { wholeNumberSetting } from '../limits/server-limits.ts';
import type { QueryAnswer, QueryJob } from './query-job.ts';
import { WorkerPool } from './worker-pool.ts';

export interface QueryPoolConfig {
  budgetSeconds: number;
  workers: number;
  queue: number;
  memoryMb: number;
}

export function queryPoolConfig(env: NodeJS.ProcessEnv = process.env): QueryPoolConfig {
  return {
    budgetSeconds: wholeNumberSetting(env, 'IRLAB_QUERY_BUDGET_SECONDS', 5, 1),
    workers: wholeNumberSetting(env, 'IRLAB_QUERY_WORKERS', Math.max(1, availableParallelism() - 1), 1),
    queue: wholeNumberSetting(env, 'IRLAB_QUERY_QUEUE', 16, 0),
    memoryMb: wholeNumberSetting(env, 'IRLAB_QUERY_WORKER_MEMORY_MB', 512, 64),
  };
}

const WORKER = 'src/server/query/query-worker.ts';

/**
 * The worker's module, found by walking up from this file to the project root: from the source
 * tree (src/server/query) and from Astro's bundle (dist/server/chunks) alike. import.meta.url of
 * a bundled chunk cannot name a source file relative to itself.
 */
export function queryWorkerFile(from = import.meta.dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, WORKER);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${WORKER} not found above ${from}: the query workers need irlab's source tree next to its build`);
  }
}

export function createQueryPool(config: QueryPoolConfig = queryPoolConfig()): WorkerPool<QueryJob, QueryAnswer> {
  return new WorkerPool<QueryJob, QueryAnswer>({
    file: queryWorkerFile(),
    size: config.workers,
    queue: config.queue,
    budgetMs: config.budgetSeconds * 1000,
    resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
  });
}

let pool: WorkerPool<QueryJob, QueryAnswer> | undefined;

/** This process's pool, created on the first query (Astro's bundle holds the only copy that queries). */
export function queryPool(): WorkerPool<QueryJob, QueryAnswer> {
  pool ??= createQueryPool();
  return pool;
}
