import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLrsReceiver, type LrsReceiver } from '../../../tests/integration/fixtures/lrs-receiver.ts';
import { until, VirtualTimers } from '../../../tests/integration/fixtures/virtual-timers.ts';
import { allMigrations, openStore, type Store } from '../store/index.ts';
import { XapiOutbox } from './outbox.ts';
import { backoffDelay, retryAfterMs, XapiSender, type LrsConfig, type SenderTimers } from './sender.ts';
import { statementOf, type XapiStatement } from './statements.ts';

const publicUrl = 'https://irlab.example.org';
let receiver: LrsReceiver;
let store: Store;
let sender: XapiSender | undefined;
const logs: string[] = [];

beforeEach(async () => {
  receiver = await startLrsReceiver();
  store = openStore(':memory:', allMigrations);
  logs.length = 0;
});
afterEach(async () => {
  await sender?.close();
  sender = undefined;
  store.close();
  await receiver.close();
});

const lrs = (overrides: Partial<LrsConfig> = {}): LrsConfig => ({
  endpoint: receiver.endpoint,
  authorization: `Basic ${Buffer.from(`${receiver.key}:${receiver.secret}`).toString('base64')}`,
  batchSize: 10,
  timeoutMs: 10_000,
  retryMinMs: 1000,
  retryMaxMs: 300_000,
  ...overrides,
});

function add(outbox: XapiOutbox, n: number, tweak: (s: XapiStatement, i: number) => XapiStatement = (s) => s): string[] {
  return Array.from({ length: n }, (_, i) =>
    outbox.add((id) =>
      tweak(statementOf({ type: 'launched', learnerId: `lrn_${i}`, activity: { kind: 'quiz', slug: 'q', title: 'Q' }, runId: `att_${i}`, at: new Date(Date.UTC(2026, 11, 7, 10, 0, i)).toISOString() }, { id, publicUrl, actor: { learnerId: `lrn_${i}` } }), i),
    ),
  );
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

describe('the xAPI sender against a test LRS', () => {
  it('sends the outbox in order in batches, as xAPI 1.0.3 with Basic credentials, and empties it', async () => {
    const outbox = new XapiOutbox(store);
    const ids = add(outbox, 25);
    start(outbox, new VirtualTimers());
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(receiver.requests.map((r) => [r.method, r.status, r.ids.length])).toEqual([
      ['POST', 200, 10],
      ['POST', 200, 10],
      ['POST', 200, 5],
    ]);
    expect(outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: 25 });
  });

  it('a statement added while idle is sent at once', async () => {
    const outbox = new XapiOutbox(store);
    const s = start(outbox, new VirtualTimers());
    await until(() => receiver.requests.length === 0 && outbox.status().pending === 0, 'idle');
    const [id] = add(outbox, 1);
    s.wake();
    await until(() => receiver.statements.has(id!), 'the statement at the LRS');
    expect(receiver.requests.at(-1)).toMatchObject({ method: 'PUT', status: 204 });
  });

  it('a resend after a lost answer is stored once: the LRS answers 409 for the id it has, and that counts as delivered', async () => {
    const outbox = new XapiOutbox(store);
    const [id] = add(outbox, 1);
    await receiver.setMode('losing-answers');
    const timers = new VirtualTimers(receiver).at(1, 'up');
    start(outbox, timers);
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    expect(receiver.requests.map((r) => [r.method, r.status, r.ids])).toEqual([
      ['PUT', 'dropped', [id]],
      ['PUT', 409, [id]],
    ]);
    expect([...receiver.statements.keys()]).toEqual([id]);
    expect(outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: 1 });
  });

  it('a batch resent after a lost answer: the LRS keeps each statement once', async () => {
    const outbox = new XapiOutbox(store);
    const ids = add(outbox, 3);
    await receiver.setMode('losing-answers');
    start(outbox, new VirtualTimers(receiver).at(1, 'up'));
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    // The same batch again is the same content: the test LRS (like a conformant one) stores nothing twice.
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(receiver.requests.map((r) => r.status)).toEqual(['dropped', 200]);
  });

  it('an LRS that refuses a resent batch whole (409): each statement alone is delivered, none stored twice', async () => {
    await receiver.close();
    receiver = await startLrsReceiver({ duplicateInBatch: 409, duplicate: 204 });
    const outbox = new XapiOutbox(store);
    const ids = add(outbox, 3);
    await receiver.setMode('losing-answers');
    start(outbox, new VirtualTimers(receiver).at(1, 'up'));
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    expect(receiver.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 'dropped'],
      ['POST', 409],
      ['PUT', 204],
      ['PUT', 204],
      ['PUT', 204],
    ]);
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(outbox.status()).toMatchObject({ failed: 0, delivered: 3 });
  });

  it('the LRS down for a minute (refused, then 503s): the statements wait with backoff and arrive once it is back', async () => {
    const outbox = new XapiOutbox(store);
    const ids = add(outbox, 3);
    await receiver.setMode('refusing');
    const timers = new VirtualTimers(receiver).at(30_000, 'unavailable').at(60_000, 'up');
    start(outbox, timers);
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    // random() = 1: the full backoff, doubling from 1 s; the tries at 1, 3, 7, 15 s are refused,
    // at 31 s the LRS answers 503, and at 63 s it takes them.
    expect(timers.sleeps).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000]);
    expect(receiver.requests.map((r) => r.status)).toEqual([503, 200]);
    expect([...receiver.statements.keys()]).toEqual(ids);
    expect(logs.filter((l) => /cannot be reached/.test(l))).toHaveLength(1);
    expect(logs.some((l) => /answers again after 6 failed tries/.test(l))).toBe(true);
    expect(outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: 3 });
  });

  it('a 429 waits the Retry-After it gives (within the maximum)', async () => {
    const outbox = new XapiOutbox(store);
    add(outbox, 1);
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
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    expect(timers.sleeps).toEqual([20_000]);
  });

  it('a statement the LRS refuses (400) is kept as failed with the reason, logged, and the others still go', async () => {
    const outbox = new XapiOutbox(store);
    const ids = add(outbox, 3, (s, i) => (i === 1 ? { ...s, verb: { id: 'not an iri', display: { 'en-US': 'launched' } } } : s));
    start(outbox, new VirtualTimers());
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    expect([...receiver.statements.keys()]).toEqual([ids[0], ids[2]]);
    // The batch is refused as a whole; each alone finds the bad one.
    expect(receiver.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 400],
      ['PUT', 204],
      ['PUT', 400],
      ['PUT', 204],
    ]);
    const status = outbox.status();
    expect(status).toMatchObject({ pending: 0, failed: 1, delivered: 2 });
    expect(status.failures[0]).toMatchObject({ id: ids[1], summary: `launched ${publicUrl}/quizzes/q` });
    expect(status.failures[0]!.reason).toMatch(/HTTP 400: .*verb\.id is not an IRI/);
    expect(logs.filter((l) => l.includes(ids[1]!))).toHaveLength(1);
    // `irlab xapi retry`: failed statements go back in line.
    expect(outbox.retryFailed()).toBe(1);
    expect(outbox.status()).toMatchObject({ pending: 1, failed: 0 });
  });

  it('wrong credentials (401) are the operator\'s to fix: nothing is marked failed, the statements wait', async () => {
    const outbox = new XapiOutbox(store);
    add(outbox, 2);
    const timers = new VirtualTimers();
    start(outbox, timers, { authorization: `Basic ${Buffer.from('irlab-test-key:wrong').toString('base64')}` });
    await until(() => timers.sleeps.length >= 3, 'three tries');
    expect(outbox.status()).toMatchObject({ pending: 2, failed: 0, delivered: 0 });
    expect(outbox.status().lastError).toMatch(/HTTP 401.*IRLAB_XAPI_KEY/);
    expect(logs.join('\n')).not.toContain('wrong');
  });

  it('a restart resumes: a new sender on the same store sends what the first left, and close() stops a sender in its backoff', async () => {
    const outbox = new XapiOutbox(store);
    const ids = add(outbox, 4);
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
    expect(outbox.status()).toMatchObject({ pending: 4, delivered: 0 });
    expect(outbox.status().lastError).toMatch(/HTTP 503/);

    await receiver.setMode('up');
    start(new XapiOutbox(store), new VirtualTimers());
    await until(() => receiver.statements.size === 4, 'the statements at the LRS');
    expect([...receiver.statements.keys()]).toEqual(ids);
  });

  it('close() aborts a request the LRS does not answer', async () => {
    const outbox = new XapiOutbox(store);
    add(outbox, 1);
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
    expect(outbox.status()).toMatchObject({ pending: 1, delivered: 0 });
    // Stopping is not a failed try.
    expect(outbox.status().lastError).toBeNull();
  });

  it('a request without an answer within the time limit is retried', async () => {
    const outbox = new XapiOutbox(store);
    add(outbox, 1);
    let calls = 0;
    const fetch: typeof globalThis.fetch = (input, init) => {
      calls += 1;
      if (calls > 1) return globalThis.fetch(input, init);
      return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error), { once: true }));
    };
    sender = new XapiSender({ outbox, lrs: lrs({ timeoutMs: 50 }), timers: new VirtualTimers(), fetch, log: () => {}, error: (l) => logs.push(l) });
    sender.start();
    await until(() => outbox.status().pending === 0, 'the outbox to drain');
    expect(logs[0]).toMatch(/no answer within 0.05 s/);
  });
});
