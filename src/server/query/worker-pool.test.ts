import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { FixtureJob } from './worker-pool.fixture.ts';
import { PoolRefusal, WorkerPool, type WorkerPoolOptions } from './worker-pool.ts';

const file = path.join(import.meta.dirname, 'worker-pool.fixture.ts');
let pools: WorkerPool<FixtureJob, string>[] = [];
function pool(options: Partial<WorkerPoolOptions> = {}) {
  const created = new WorkerPool<FixtureJob, string>({ file, size: 1, queue: 1, budgetMs: 5000, graceMs: 200, ...options });
  pools.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

async function refusal(promise: Promise<unknown>): Promise<PoolRefusal> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PoolRefusal) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('WorkerPool', () => {
  it('runs jobs off the event loop: a timer fires while a job spins', async () => {
    const p = pool();
    const order: string[] = [];
    const job = p.run({ spinMs: 600 }).then(() => order.push('job'));
    await sleep(20);
    order.push('timer');
    await job;
    expect(order).toEqual(['timer', 'job']);
  });

  it('terminates a worker stuck past its budget, and a new worker serves the next job', async () => {
    const p = pool({ budgetMs: 100, graceMs: 100 });
    const stuck = await refusal(p.run({ spinMs: 60_000 }));
    expect(stuck).toMatchObject({ kind: 'time', message: 'the query did not finish within its 0.1 s budget', retryAfterSeconds: 1 });
    expect(await p.run({ value: 'next' })).toMatch(/^next from/);
    expect(p.stats).toEqual({ workers: 1, busy: 0, waiting: 0 });
  });

  it('refuses a job when every worker is busy and the queue is full', async () => {
    const p = pool({ size: 1, queue: 1 });
    const running = p.run({ spinMs: 400 });
    const queued = p.run({ value: 'queued' });
    const busy = await refusal(p.run({ value: 'one too many' }));
    expect(busy).toMatchObject({ kind: 'busy', retryAfterSeconds: 5 });
    expect(busy.message).toBe('the server is busy with other queries (1 running, 1 waiting)');
    expect(await running).toBe('spun');
    expect(await queued).toMatch(/^queued/);
  });

  it('drops a waiting job and stops a running one when the caller gives up', async () => {
    const p = pool({ size: 1, queue: 2 });
    const running = new AbortController();
    const waiting = new AbortController();
    const first = refusal(p.run({ spinMs: 60_000 }, running.signal));
    const second = refusal(p.run({ value: 'never' }, waiting.signal));
    const third = p.run({ value: 'third' });
    waiting.abort();
    expect(await second).toMatchObject({ kind: 'cancelled' });
    running.abort();
    expect(await first).toMatchObject({ kind: 'cancelled' });
    expect(await third).toMatch(/^third/);
  });

  it('reports a job that failed, and one that ran out of memory, and keeps serving', async () => {
    const p = pool({ resourceLimits: { maxOldGenerationSizeMb: 32 } });
    expect(await refusal(p.run({ throw: 'boom' }))).toMatchObject({ kind: 'failed', message: 'the query failed: boom' });
    expect(await refusal(p.run({ hog: true }))).toMatchObject({ kind: 'memory', message: 'the query needed more than 32 MB of memory' });
    expect(await p.run({ value: 'after' })).toMatch(/^after/);
  });

  it('refuses jobs once closed', async () => {
    const p = pool();
    await p.close();
    expect(await refusal(p.run({ value: 'late' }))).toMatchObject({ kind: 'closed' });
  });
});
