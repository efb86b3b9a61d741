// Issue #20: "an xAPI statement survives a receiver that is down for a minute (outbox, no loss, no
// duplicate)". Real events from the real quiz engine on the repository's L18 quiz, a real SQLite
// file, real HTTP to a test LRS of ours (tests/integration/fixtures/lrs-receiver.ts) that refuses
// connections and then answers 503; the outbox is restarted on the same file mid-way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/app/config.ts';
import { buildServices, type Services } from '../../src/server/app/services.ts';
import { learnerService } from '../../src/server/learners/learners.ts';
import { LearningEvents, type LearningEvent } from '../../src/server/learners/learning-events.ts';
import { loadCatalog } from '../../src/server/quiz/catalog.ts';
import { quizEngine } from '../../src/server/quiz/attempts.ts';
import { allMigrations, openSqliteStore, type SqlStore } from '../../src/server/store/index.ts';
import { xapiService, type XapiService } from '../../src/server/xapi/service.ts';
import { registrationOf } from '../../src/server/xapi/statements.ts';
import { startLrsReceiver, type LrsReceiver } from './fixtures/lrs-receiver.ts';
import { until, VirtualTimers } from './fixtures/virtual-timers.ts';

const root = path.resolve(import.meta.dirname, '../..');
/** Until the outbox holds no pending statement. */
const drained = (xapi: XapiService) => expect.poll(async () => (await xapi.outbox.status()).pending, { timeout: 60_000, interval: 10 }).toBe(0);
const publicUrl = 'https://irlab.example.org';
let work: string;
let receiver: LrsReceiver;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-xapi-'));
  receiver = await startLrsReceiver();
});
afterEach(async () => {
  await receiver.close();
  await rm(work, { recursive: true, force: true });
});

/** What the learner does: start the L18 quiz, answer its first question (checked at once), submit. */
async function takeQuiz(engine: { start: (l: string, s: string) => Promise<{ attempt?: { id: string; questions: Array<{ id: string; type: string; options?: Array<{ id: string }> }> } }>; answer: (l: string, s: string, a: string, q: string, v: unknown) => unknown; submit: (l: string, s: string, a: string) => unknown }, learnerId: string): Promise<string> {
  const state = await engine.start(learnerId, 'l18');
  const attempt = state.attempt!;
  const single = attempt.questions.find((q) => q.type === 'single')!;
  await engine.answer(learnerId, 'l18', attempt.id, single.id, single.options![0]!.id);
  await engine.submit(learnerId, 'l18', attempt.id);
  return attempt.id;
}

/** The statements at the LRS: every event once, in order, with the run's registration. */
function expectDelivered(events: LearningEvent[], attemptId: string): void {
  const stored = [...receiver.statements.values()] as Array<{ id: string; verb: { id: string }; timestamp: string; context: { registration: string } }>;
  expect(stored.map((s) => s.verb.id.split('/').at(-1))).toEqual(events.map((e) => e.type));
  expect(new Set(stored.map((s) => s.id)).size).toBe(events.length);
  expect(stored.map((s) => s.timestamp)).toEqual(events.map((e) => e.at));
  expect(new Set(stored.map((s) => s.context.registration))).toEqual(new Set([registrationOf(publicUrl, attemptId)]));
  // No request stored anything twice: each id was accepted as new exactly once.
  const accepted = receiver.requests.filter((r) => r.status === 200 || r.status === 204 || r.status === 'dropped').flatMap((r) => r.ids);
  expect(accepted.sort()).toEqual(stored.map((s) => s.id).sort());
}

describe('xAPI through the outbox, from the real quiz engine to a test LRS', () => {
  it('the LRS down for a minute (virtual clock: 30 s refused, 31 s of 503s), the outbox restarted mid-way: every statement arrives once', async () => {
    const file = path.join(work, 'irlab.db');
    const lrs = { endpoint: receiver.endpoint, authorization: `Basic ${Buffer.from(`${receiver.key}:${receiver.secret}`).toString('base64')}`, batchSize: 50, timeoutMs: 10_000, retryMinMs: 1000, retryMaxMs: 300_000 };
    const timers = new VirtualTimers(receiver).at(30_000, 'unavailable').at(61_000, 'up');
    const lines: string[] = [];
    const serviceOn = (store: SqlStore) => xapiService({ store, publicUrl, lrs, timers, random: () => 0.5, log: (l) => lines.push(l), error: (l) => lines.push(l) });

    await receiver.setMode('refusing');
    let store = await openSqliteStore(file, allMigrations);
    let xapi: XapiService = serviceOn(store);
    const bus = new LearningEvents((error) => {
      throw error;
    });
    const events: LearningEvent[] = [];
    bus.subscribe((event) => void events.push(event));
    bus.subscribe((event) => xapi.listener(event));
    xapi.start();
    const learner = (await learnerService({ store }).create()).learner;
    const engine = quizEngine({ store, catalog: await loadCatalog(root), events: bus });
    const attemptId = await takeQuiz(engine, learner.id);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['launched', 'answered', 'completed']));
    // Written before the engine's awaited emits returned: all of them are in the outbox now.
    expect((await xapi.outbox.status()).pending + receiver.statements.size).toBe(events.length);

    // Refused for a while, then the process "restarts": a new outbox and sender on the same file.
    await until(() => timers.sleeps.length >= 3, 'three refused tries');
    expect(receiver.statements.size).toBe(0);
    await xapi.close();
    await store.close();
    store = await openSqliteStore(file, allMigrations);
    xapi = serviceOn(store);
    expect(await xapi.outbox.status()).toMatchObject({ pending: events.length, failed: 0, lastError: expect.stringMatching(/cannot be reached \(ECONNREFUSED\)/) });
    xapi.start();

    await drained(xapi);
    expect(timers.now).toBeGreaterThanOrEqual(61_000);
    expect(receiver.requests.some((r) => r.status === 503)).toBe(true);
    expectDelivered(events, attemptId);
    expect(await xapi.outbox.status()).toMatchObject({ pending: 0, failed: 0, delivered: events.length });
    await xapi.close();
    await store.close();
  });

  it('without IRLAB_XAPI_ENDPOINT there is no outbox work: no sender, nothing written', async () => {
    const config = loadConfig({ IRLAB_DATA_DIR: path.join(work, 'plain'), IRLAB_ROOT: root, IRLAB_CACHE: path.join(work, 'cache'), IRLAB_WARM_POOL_SIZE: '0', IRLAB_INSTRUCTOR_TOKEN: 'xapi-test-instructor-token' }, root);
    const services = await buildServices(config, { terminals: false, drillTimers: false, log: () => {}, error: () => {} });
    try {
      expect(services.xapi).toBeNull();
      await takeQuiz(await services.quizzes(), (await services.learners.create()).learner.id);
      expect(await services.db.get('SELECT COUNT(*) AS n FROM xapi_outbox')).toEqual({ n: 0 });
    } finally {
      await services.close();
    }
  });

  it('through the composition root on real time (short backoff bounds): down, restarted, up; nothing lost or doubled', async () => {
    const dataDir = path.join(work, 'data');
    const config = loadConfig(
      {
        IRLAB_DATA_DIR: dataDir,
        IRLAB_ROOT: root,
        IRLAB_CACHE: path.join(work, 'cache'),
        IRLAB_WARM_POOL_SIZE: '0',
        IRLAB_INSTRUCTOR_TOKEN: 'xapi-test-instructor-token',
        IRLAB_PUBLIC_URL: publicUrl,
        IRLAB_XAPI_ENDPOINT: receiver.endpoint,
        IRLAB_XAPI_KEY: receiver.key,
        IRLAB_XAPI_SECRET: receiver.secret,
        IRLAB_XAPI_RETRY_MIN_MS: '20',
        IRLAB_XAPI_RETRY_MAX_MS: '200',
      },
      root,
    );
    const lines: string[] = [];
    const build = () => buildServices(config, { terminals: false, drillTimers: false, log: (l) => lines.push(l), error: (l) => lines.push(l) });
    await receiver.setMode('refusing');
    let services: Services = await build();
    try {
      const events: LearningEvent[] = [];
      services.learningEvents.subscribe((event) => void events.push(event));
      const learner = (await services.learners.create()).learner;
      const attemptId = await takeQuiz(await services.quizzes(), learner.id);
      expect((await services.xapi!.outbox.status()).pending).toBe(events.length);

      await until(() => services.xapi!.sender.failuresInARow >= 4, 'four refused tries');
      await receiver.setMode('unavailable');
      await until(() => receiver.requests.filter((r) => r.status === 503).length >= 2, 'two 503s');
      await services.close();
      services = await build();
      const before = receiver.requests.length;
      await until(() => receiver.requests.length > before, 'the restarted server to resume sending');
      expect(receiver.statements.size).toBe(0);
      await receiver.setMode('up');
      await drained(services.xapi!);
      expectDelivered(events, attemptId);
      // The operator saw it: one line when the LRS went away, one when it answered again; no secret.
      expect(lines.filter((l) => /irlab xapi: the LRS at .* cannot be reached/.test(l)).length).toBeGreaterThanOrEqual(1);
      expect(lines.some((l) => /irlab xapi: the LRS answers again/.test(l))).toBe(true);
      expect(lines.join('\n')).not.toContain(receiver.secret);
      expect(lines.join('\n')).not.toContain(Buffer.from(`${receiver.key}:${receiver.secret}`).toString('base64'));
    } finally {
      await services.close();
    }
  });
});
