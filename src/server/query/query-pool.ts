/**
 * The server's pool of query workers (POST /api/query): every query runs in a worker thread with
 * a time budget and a memory limit, never on the event loop that serves terminals and pages.
 * Settings: IRLAB_QUERY_* (src/server/app/config.ts); one pool per process (services.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { QueryAnswer, QueryJob } from './query-job.ts';
import { WorkerPool } from './worker-pool.ts';

export interface QueryPoolConfig {
  budgetSeconds: number;
  workers: number;
  queue: number;
  memoryMb: number;
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

export function createQueryPool(config: QueryPoolConfig): WorkerPool<QueryJob, QueryAnswer> {
  return new WorkerPool<QueryJob, QueryAnswer>({
    file: queryWorkerFile(),
    size: config.workers,
    queue: config.queue,
    budgetMs: config.budgetSeconds * 1000,
    resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
  });
}
