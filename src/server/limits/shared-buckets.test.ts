import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { allMigrations } from '../store/migrations.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { RateLimiter, type Charge } from './rate-limit.ts';
import { ServerLimits, type LimitsConfig } from './server-limits.ts';
import { sharedBuckets } from './shared-buckets.ts';

const open = openedPerTest();
const together: SqlStore[] = [];
afterEach(async () => {
  // The first store drops the database: the others go first.
  for (const store of together.splice(0).reverse()) await store.close();
});

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const config: LimitsConfig = { ...loadConfig({}).limits, startsPerLearner: 2, startsPerAddress: 3, startsWindowSeconds: 600 };

describe.each(testStores())('token buckets in the store on $name', (backend: TestBackend) => {
  it('admits and refuses exactly as the in-memory limiter does, with the same waits (property)', async () => {
    const store = await open(backend);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ keys: fc.subarray(['a', 'b', 'c'], { minLength: 1 }), advanceMs: fc.constantFrom(0, 1, 999, 20_000, 61_000) }), { minLength: 1, maxLength: 25 }),
        async (steps) => {
          await store.run('DELETE FROM rate_buckets');
          const t = clock();
          const memory = new RateLimiter(t.now);
          const shared = sharedBuckets(store, t.now);
          const rates: Record<string, Charge['rate']> = { a: { limit: 3, windowMs: 60_000 }, b: { limit: 1, windowMs: 10_000 }, c: { limit: 0, windowMs: 1000 } };
          for (const { keys, advanceMs } of steps) {
            t.advance(advanceMs);
            const charges = keys.map((key) => ({ key, rate: rates[key]! }));
            expect(await shared.take(charges)).toEqual(memory.take(charges));
          }
        },
      ),
      { numRuns: backend.name === 'postgres' ? 15 : 40 },
    );
  });

  it('charges all keys or none: a learner with room is not charged when the address has none', async () => {
    const store = await open(backend);
    const t = clock();
    const shared = sharedBuckets(store, t.now);
    const rate = { limit: 2, windowMs: 60_000 };
    expect(await shared.take([{ key: 'start:address:10.0.0.1', rate }])).toEqual({ ok: true });
    expect(await shared.take([{ key: 'start:address:10.0.0.1', rate }])).toEqual({ ok: true });
    expect(await shared.take([{ key: 'start:learner:l1', rate }, { key: 'start:address:10.0.0.1', rate }])).toEqual({ ok: false, key: 'start:address:10.0.0.1', retryAfterMs: 30_000 });
    // l1 still has both of its starts.
    expect(await shared.take([{ key: 'start:learner:l1', rate }])).toEqual({ ok: true });
    expect(await shared.take([{ key: 'start:learner:l1', rate }])).toEqual({ ok: true });
    expect(await shared.take([{ key: 'start:learner:l1', rate }])).toMatchObject({ ok: false, key: 'start:learner:l1' });
  });

  it('gives ServerLimits the same refusals, word for word', async () => {
    const store = await open(backend);
    const t = clock();
    const limits = new ServerLimits(config, t.now, sharedBuckets(store, t.now));
    expect(await limits.clusterStart({ learner: 'l1', address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.clusterStart({ learner: 'l1', address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.clusterStart({ learner: 'l1', address: '10.0.0.1' })).toEqual({ reason: 'too many cluster starts by you: at most 2 in 10 minutes; try again in 300 s', retryAfterSeconds: 300 });
    expect(await limits.clusterStart({ learner: 'l2', address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.clusterStart({ address: '10.0.0.1' })).toEqual({ reason: 'too many cluster starts from your address: at most 3 in 10 minutes; try again in 200 s', retryAfterSeconds: 200 });
  });

  it('keeps no row once a bucket is full again (bounded)', async () => {
    const store = await open(backend);
    const t = clock();
    const shared = sharedBuckets(store, t.now);
    for (let i = 0; i < 50; i++) await shared.take([{ key: `join:address:10.0.${i}.1`, rate: { limit: 5, windowMs: 60_000 } }]);
    const count = async () => Number((await store.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM rate_buckets'))!.n);
    expect(await count()).toBe(50);
    t.advance(59_999);
    expect(await shared.sweep()).toBe(0);
    t.advance(1);
    // The next charge sweeps (at most once a minute per process): only its own bucket is left.
    expect(await shared.take([{ key: 'join:address:10.1.0.1', rate: { limit: 5, windowMs: 60_000 } }])).toEqual({ ok: true });
    expect(await count()).toBe(1);
  });

  it('never admits more than the limit when many charges race from two processes on one database', async () => {
    const stores = backend.openTogether ? await backend.openTogether(2, allMigrations) : [await open(backend)];
    if (backend.openTogether) together.push(...stores);
    const t = clock();
    const limits = stores.map((store) => sharedBuckets(store, t.now));
    const address = { limit: 20, windowMs: 600_000 };
    // 120 learners behind one address, each charging learner and address at once, half through each store.
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) => limits[i % limits.length]!.take([{ key: `start:learner:l${i}`, rate: { limit: 6, windowMs: 600_000 } }, { key: 'start:address:198.51.100.7', rate: address }])),
    );
    expect(answers.filter((a) => a.ok)).toHaveLength(20);
    // The refused learners were not charged: each still has its 6 (one is enough to show it).
    const refused = answers.findIndex((a) => !a.ok);
    expect(await limits[0]!.take([{ key: `start:learner:l${refused}`, rate: { limit: 6, windowMs: 600_000 } }])).toEqual({ ok: true });
    // One key, no transaction: the same.
    const single = await Promise.all(Array.from({ length: 100 }, (_, i) => limits[i % limits.length]!.take([{ key: 'check:address:203.0.113.9', rate: { limit: 7, windowMs: 60_000 } }])));
    expect(single.filter((a) => a.ok)).toHaveLength(7);
  }, 60_000);
});
