import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLrsReceiver, type LrsReceiver } from '../../../tests/integration/fixtures/lrs-receiver.ts';
import { until, VirtualTimers } from '../../../tests/integration/fixtures/virtual-timers.ts';
import { allMigrations } from '../store/migrations.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';
import { XapiOutbox } from './outbox.ts';
import { backoffDelay, realTimers, retryAfterMs, XapiSender, type LrsConfig, type SenderTimers } from './sender.ts';
import { statementOf, type XapiStatement } from './statements.ts';

const publicUrl = 'https://irlab.example.org';
let receiver: LrsReceiver;
let store: SqlStore;
let sender: XapiSender | undefined;
const logs: string[] = [];

beforeEach(async () => {
  receiver = await startLrsReceiver();
  logs.length = 0;
});
afterEach(async () => {
  await receiver.close();
});

/** Until the outbox holds no pending statement. */
const drained = (outbox: XapiOutbox) => expect.poll(async () => (await outbox.status()).pending, { timeout: 30_000, interval: 5 }).toBe(0);

const lrs = (overrides: Partial<LrsConfig> = {}): LrsConfig => ({
  endpoint: receiver.endpoint,
  authorization: `Basic ${Buffer.from(`${receiver.key}:${receiver.secret}`).toString('base64')}`,
  batchSize: 10,
  timeoutMs: 10_000,
  retryMinMs: 1000,
  retryMaxMs: 300_000,
  ...overrides,
});

/** `n` statements, one after the other (their order in the outbox is the order of the ids). */
async function add(outbox: XapiOutbox, n: number, tweak: (s: XapiStatement, i: number) => XapiStatement = (s) => s): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      await outbox.add((id) =>
        tweak(statementOf({ type: 'launched', learnerId: `lrn_${i}`, activity: { kind: 'quiz', slug: 'q', title: 'Q' }, runId: `att_${i}`, at: new Date(Date.UTC(2026, 11, 7, 10, 0, i)).toISOString() }, { id, publicUrl, actor: { learnerId: `lrn_${i}` } }), i),
      ),
    );
  }
  return ids;
}

function start(outbox: XapiOutbox, timers: SenderTimers, overrides: Partial<LrsConfig> = {}): XapiSender {
  sender = new XapiSender({ outbox, lrs: lrs(overrides), timers, random: () => 1, log: (l) => logs.push(l), error: (l) => logs.push(l) });
  sender.start();
  return sender;
}

describe('the backoff schedule', () => {
  it('doubles from the minimum to the maximum; jitter keeps each wait between half and all of it', () => {
    const bounds = { retryMinMs: 1000, retryMaxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffDelay(n, bounds, () => 1))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect([1, 2, 3, 7].map((n) => backoffDelay(n, bounds, () => 0))).toEqual([500, 1000, 2000, 30_000]);
    for (let n = 1; n < 12; n++) {
      const d = backoffDelay(n, bounds);
      const ceiling = Math.min(60_000, 1000 * 2 ** (n - 1));
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });

  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe.each(testStores())('the xAPI sender against a test LRS, on $name', (backend) => {
  const open = openedPerTest();
  beforeEach(async () => {
    store = await open(backend);
  });
  // Registered after the store's: runs before it (after-hooks run in reverse), so no sender outlives its store.
  afterEach(async () => {
    await sender?.close();
    sender = undefined;
  });

  it('sends the outbox in order in batches, as xAPI 1.0.3 with Basic credentials, and empties it', async () => {
    const outbox = new XapiOutbox(store);
    const ids = await add(outbox, 25);
    start(outbox, new VirtualTimers());
    await drained(outbox);
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(receiver.requests.map((r) => [r.method, r.status, r.ids.length])).toEqual([
      ['POST', 200, 10],
      ['POST', 200, 10],
      ['POST', 200, 5],
    ]);
    expect(await outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: 25 });
  });

  it('a statement added while idle is sent at once', async () => {
    const outbox = new XapiOutbox(store);
    const s = start(outbox, new VirtualTimers());
    await drained(outbox);
    expect(receiver.requests).toHaveLength(0);
    const [id] = await add(outbox, 1);
    s.wake();
    await until(() => receiver.statements.has(id!), 'the statement at the LRS');
    expect(receiver.requests.at(-1)).toMatchObject({ method: 'PUT', status: 204 });
  });

  it('a resend after a lost answer is stored once: the LRS answers 409 for the id it has, and that counts as delivered', async () => {
    const outbox = new XapiOutbox(store);
    const [id] = await add(outbox, 1);
    await receiver.setMode('losing-answers');
    const timers = new VirtualTimers(receiver).at(1, 'up');
    start(outbox, timers);
    await drained(outbox);
    expect(receiver.requests.map((r) => [r.method, r.status, r.ids])).toEqual([
      ['PUT', 'dropped', [id]],
      ['PUT', 409, [id]],
    ]);
    expect([...receiver.statements.keys()]).toEqual([id]);
    expect(await outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: 1 });
  });

  it('a batch resent after a lost answer: the LRS keeps each statement once', async () => {
    const outbox = new XapiOutbox(store);
    const ids = await add(outbox, 3);
    await receiver.setMode('losing-answers');
    start(outbox, new VirtualTimers(receiver).at(1, 'up'));
    await drained(outbox);
    // The same batch again is the same content: the test LRS (like a conformant one) stores nothing twice.
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(receiver.requests.map((r) => r.status)).toEqual(['dropped', 200]);
  });

  it('an LRS that refuses a resent batch whole (409): each statement alone is delivered, none stored twice', async () => {
    await receiver.close();
    receiver = await startLrsReceiver({ duplicateInBatch: 409, duplicate: 204 });
    const outbox = new XapiOutbox(store);
    const ids = await add(outbox, 3);
    await receiver.setMode('losing-answers');
    start(outbox, new VirtualTimers(receiver).at(1, 'up'));
    await drained(outbox);
    expect(receiver.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 'dropped'],
      ['POST', 409],
      ['PUT', 204],
      ['PUT', 204],
      ['PUT', 204],
    ]);
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(await outbox.status()).toMatchObject({ failed: 0, delivered: 3 });
  });

  it('the LRS down for a minute (refused, then 503s): the statements wait with backoff and arrive once it is back', async () => {
    const outbox = new XapiOutbox(store);
    const ids = await add(outbox, 3);
    await receiver.setMode('refusing');
    const timers = new VirtualTimers(receiver).at(30_000, 'unavailable').at(60_000, 'up');
    start(outbox, timers);
    await drained(outbox);
    // random() = 1: the full backoff, doubling from 1 s; the tries at 1, 3, 7, 15 s are refused,
    // at 31 s the LRS answers 503, and at 63 s it takes them.
    expect(timers.sleeps).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000]);
    expect(receiver.requests.map((r) => r.status)).toEqual([503, 200]);
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(logs.filter((l) => /cannot be reached/.test(l))).toHaveLength(1);
    expect(logs.some((l) => /answers again after 6 failed tries/.test(l))).toBe(true);
    expect(await outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: 3 });
  });

  it('a 429 waits the Retry-After it gives (within the maximum)', async () => {
    const outbox = new XapiOutbox(store);
    await add(outbox, 1);
    let first = true;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      if (first) {
        first = false;
        return new Response('slow down', { status: 429, headers: { 'retry-after': '20' } });
      }
      return globalThis.fetch(input, init);
    };
    const timers = new VirtualTimers();
    sender = new XapiSender({ outbox, lrs: lrs(), timers, fetch, random: () => 1, log: () => {}, error: () => {} });
    sender.start();
    await drained(outbox);
    expect(timers.sleeps).toEqual([20_000]);
  });

  it('a statement the LRS refuses (400) is kept as failed with the reason, logged, and the others still go', async () => {
    const outbox = new XapiOutbox(store);
    const ids = await add(outbox, 3, (s, i) => (i === 1 ? { ...s, verb: { id: 'not an iri', display: { 'en-US': 'launched' } } } : s));
    start(outbox, new VirtualTimers());
    await drained(outbox);
    expect([...receiver.statements.keys()]).toEqual([ids[0], ids[2]]);
    // The batch is refused as a whole; each alone finds the bad one.
    expect(receiver.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 400],
      ['PUT', 204],
      ['PUT', 400],
      ['PUT', 204],
    ]);
    const status = await outbox.status();
    expect(status).toMatchObject({ pending: 0, failed: 1, delivered: 2 });
    expect(status.failures[0]).toMatchObject({ id: ids[1], summary: `launched ${publicUrl}/quizzes/q` });
    expect(status.failures[0]!.reason).toMatch(/HTTP 400: .*verb\.id is not an IRI/);
    expect(logs.filter((l) => l.includes(ids[1]!))).toHaveLength(1);
    // `irlab xapi retry`: failed statements go back in line.
    expect(await outbox.retryFailed()).toBe(1);
    expect(await outbox.status()).toMatchObject({ pending: 1, failed: 0 });
  });

  it('wrong credentials (401) are the operator\'s to fix: nothing is marked failed, the statements wait', async () => {
    const outbox = new XapiOutbox(store);
    await add(outbox, 2);
    const timers = new VirtualTimers();
    start(outbox, timers, { authorization: `Basic ${Buffer.from('irlab-test-key:wrong').toString('base64')}` });
    await until(() => timers.sleeps.length >= 3, 'three tries');
    // The third try's outcome is written before its sleep began.
    expect(await outbox.status()).toMatchObject({ pending: 2, failed: 0, delivered: 0 });
    expect((await outbox.status()).lastError).toMatch(/HTTP 401.*IRLAB_XAPI_KEY/);
    expect(logs.join('\n')).not.toContain('wrong');
  });

  it('a restart resumes: a new sender on the same store sends what the first left, and close() stops a sender in its backoff', async () => {
    const outbox = new XapiOutbox(store);
    const ids = await add(outbox, 4);
    await receiver.setMode('unavailable');
    let released: (() => void) | undefined;
    // Real waiting: the first sender sleeps until close() aborts it.
    const hanging: SenderTimers = {
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          released = () => reject(signal.reason as Error);
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        }),
    };
    const first = start(outbox, hanging);
    await until(() => released !== undefined, 'the first sender to back off');
    await first.close();
    sender = undefined;
    expect(await outbox.status()).toMatchObject({ pending: 4, delivered: 0 });
    expect((await outbox.status()).lastError).toMatch(/HTTP 503/);

    await receiver.setMode('up');
    start(new XapiOutbox(store), new VirtualTimers());
    await until(() => receiver.statements.size === 4, 'the statements at the LRS');
    expect([...receiver.statements.keys()]).toEqual(ids);
  });

  it('close() aborts a request the LRS does not answer', async () => {
    const outbox = new XapiOutbox(store);
    await add(outbox, 1);
    let started = false;
    const fetch: typeof globalThis.fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        started = true;
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error), { once: true });
      });
    sender = new XapiSender({ outbox, lrs: lrs(), timers: new VirtualTimers(), fetch, log: () => {}, error: () => {} });
    sender.start();
    await until(() => started, 'the request');
    await sender.close();
    sender = undefined;
    expect(await outbox.status()).toMatchObject({ pending: 1, delivered: 0 });
    // Stopping is not a failed try.
    expect((await outbox.status()).lastError).toBeNull();
  });

  it('a request without an answer within the time limit is retried', async () => {
    const outbox = new XapiOutbox(store);
    await add(outbox, 1);
    let calls = 0;
    const fetch: typeof globalThis.fetch = (input, init) => {
      calls += 1;
      if (calls > 1) return globalThis.fetch(input, init);
      return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error), { once: true }));
    };
    sender = new XapiSender({ outbox, lrs: lrs({ timeoutMs: 50 }), timers: new VirtualTimers(), fetch, log: () => {}, error: (l) => logs.push(l) });
    sender.start();
    await drained(outbox);
    expect(logs[0]).toMatch(/no answer within 0.05 s/);
  });

  it('two senders polling one outbox at once (two processes on PostgreSQL) deliver each statement exactly once', async () => {
    // On PostgreSQL each sender has its own pool on the same database, as two processes would.
    const others = backend.openTogether ? await backend.openTogether(2, allMigrations) : [store, store];
    try {
      const [a, b] = others.map((s) => new XapiOutbox(s));
      const ids = await add(a!, 60);
      // Real time: a sender that finds every statement claimed by the other waits out the claim (or a wake) for real.
      const senders = [a!, b!].map((outbox) => new XapiSender({ outbox, lrs: lrs({ batchSize: 3 }), timers: realTimers, log: () => {}, error: (l) => logs.push(l) }));
      // Both start before either has claimed anything: their first claims race.
      for (const s of senders) s.start();
      try {
        await drained(a!);
        const sent = receiver.requests.filter((r) => r.status === 200 || r.status === 204).flatMap((r) => r.ids);
        expect(sent.toSorted()).toEqual(ids.toSorted());
        expect(await a!.status()).toMatchObject({ pending: 0, delivered: 60 });
        expect(logs).toEqual([]);
      } finally {
        await Promise.all(senders.map((s) => s.close()));
      }
    } finally {
      if (backend.openTogether) await Promise.all(others.map((s) => s.close()));
    }
  });

  it('claims are exclusive: two claims at once share no statement, and a claim left by a dead sender is taken again once it runs out', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const clock = () => new Date(now);
    const outbox = new XapiOutbox(store, { clock });
    const ids = await add(outbox, 10);
    const [first, second] = await Promise.all([outbox.claim(6, 60_000), new XapiOutbox(store, { clock }).claim(6, 60_000)]);
    // On PostgreSQL the later claim may find its rows taken and get fewer (or none): never the same ones.
    const rest = await outbox.claim(10, 60_000);
    const all = [...first!, ...second!, ...rest].map((e) => e.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.toSorted()).toEqual(ids.toSorted());
    expect(await outbox.claim(10, 60_000)).toEqual([]);
    now += 60_000;
    expect((await outbox.claim(10, 60_000)).map((e) => e.id)).toEqual(ids);
  });

  it('after a crash (its claims never given back), the next start sends the statements once their claim runs out', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const outbox = new XapiOutbox(store, { clock: () => new Date(now) });
    const ids = await add(outbox, 3);
    await outbox.claim(10, 60_000); // the crashed process's claim
    const sleeps: number[] = [];
    const timers: SenderTimers = {
      sleep: async (ms, signal) => {
        signal.throwIfAborted();
        sleeps.push(ms);
        now += ms;
      },
    };
    start(outbox, timers);
    await drained(outbox);
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(sleeps).toEqual([60_000]);
  });
});
