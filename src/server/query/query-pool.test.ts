import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleQuery, registry, type SourceRegistry } from './http.ts';
import { loadConfig } from '../app/config.ts';
import { createQueryPool, queryWorkerFile } from './query-pool.ts';
import { runQueryJob, type QueryAnswer, type QueryJob } from './query-job.ts';
import { FileAuditLogSource } from './source.ts';
import { seededRandom, syntheticLog, toAuditLine } from './synthetic-audit-log.ts';
import { WorkerPool } from './worker-pool.ts';

// A large log: 2,000 synthetic events written 40 times (about 90 MB). NOT defeats the literal
// pre-filter, so the query below parses every line: far longer than the budgets used here.
const EXPENSIVE = 'NOT verb == "nothing-is-this-verb" | count by user.username';
let dir: string;
let big: string;
let small: string;
let sources: SourceRegistry;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-query-pool-'));
  const lines = syntheticLog({ random: seededRandom(9), background: 2000, attackAt: 0.5 }).events.map(toAuditLine).join('\n');
  big = path.join(dir, 'big.log');
  const out = createWriteStream(big);
  for (let i = 0; i < 40; i++) if (!out.write(`${lines}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  small = path.join(dir, 'small.log');
  await writeFile(small, `${lines}\n`);
  sources = registry([new FileAuditLogSource(big, 'big'), new FileAuditLogSource(small, 'small')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the time budget', () => {
  it('cancels a scan between chunks when its signal fires', async () => {
    const job = { file: big, query: EXPENSIVE, highlight: [], limit: 10 };
    await expect(runQueryJob(job, AbortSignal.timeout(50))).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('answers 503 with the reason and Retry-After when a query in the pool runs over its budget; the pool keeps serving', async () => {
    const pool = new WorkerPool<QueryJob, QueryAnswer>({ file: queryWorkerFile(), size: 1, queue: 4, budgetMs: 100, graceMs: 2000 });
    try {
      const over = await handleQuery({ source: 'big', query: EXPENSIVE }, sources, (job, signal) => pool.run(job, signal));
      expect(over).toEqual({
        status: 503,
        body: { ok: false, error: { message: 'the query did not finish within its 0.1 s budget', hint: expect.stringContaining('narrow the query'), retryAfterSeconds: 1 } },
        headers: { 'retry-after': '1' },
      });
      // The worker noticed its signal (no termination needed) and answers the next query.
      expect(pool.stats.workers).toBe(1);
      const ok = await handleQuery({ source: 'small', query: 'objectRef.resource == "secrets" | count' }, sources, (job, signal) => pool.run(job, signal));
      expect(ok.status).toBe(200);
    } finally {
      await pool.close();
    }
  });

  it('gives the same answer in a worker as in this thread', async () => {
    const pool = createQueryPool({ ...loadConfig({}).query, workers: 1 });
    try {
      const request = { source: 'small', query: 'verb in ("get", "list") AND objectRef.resource == "secrets" | count by user.username | sort -count', highlight: ['alice'] };
      const here = await handleQuery(request, sources);
      const there = await handleQuery(request, sources, (job, signal) => pool.run(job, signal));
      expect(there.status).toBe(200);
      const strip = (body: unknown) => ({ ...(body as object), scan: { ...(body as { scan: object }).scan, ms: 0 } });
      expect(strip(there.body)).toEqual(strip(here.body));
    } finally {
      await pool.close();
    }
  });
});

describe('the query pool settings', () => {
  it('finds its worker from the source tree or a build', () => {
    const root = path.resolve(import.meta.dirname, '../../..');
    expect(queryWorkerFile()).toBe(path.join(root, 'src/server/query/query-worker.ts'));
    expect(queryWorkerFile(path.join(root, 'dist/server/chunks'))).toBe(path.join(root, 'src/server/query/query-worker.ts'));
  });
});
