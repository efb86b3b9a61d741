import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import type { LearningEvent } from '../learners/learning-events.ts';
import { allMigrations } from '../store/migrations.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { CLAIM_MS, gradePassback, MAX_ATTEMPTS, SCORE_MEDIA_TYPE, scoresUrl } from './grade-passback.ts';
import type { Platform } from './platforms.ts';
import { toolKeyFrom } from './tool-key.ts';

const platform: Platform = {
  name: 'LMS',
  issuer: 'https://lms.example.edu',
  clientId: 'client-1',
  deploymentIds: ['d'],
  authLoginUrl: 'https://lms.example.edu/auth',
  jwksUrl: 'https://lms.example.edu/jwks',
  tokenUrl: 'https://lms.example.edu/token',
};
const key = toolKeyFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);

/** The platform's token and score endpoints as a transport: `down` answers 503. */
function platformTransport(clock: () => Date) {
  // `hold`: score posts wait until it resolves (a slow platform).
  let hold: Promise<void> = Promise.resolve();
  const state = { down: false, posting: 0, scores: [] as Array<{ url: string; type: string | null; auth: string | null; body: unknown }>, assertions: [] as Array<Record<string, unknown>> };
  const transport = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    if (url === platform.tokenUrl) {
      const form = new URLSearchParams(String(init?.body));
      const { payload } = await jwtVerify(form.get('client_assertion')!, createLocalJWKSet({ keys: [key.publicJwk] }), { audience: platform.tokenUrl, issuer: 'client-1', subject: 'client-1', currentDate: clock() });
      state.assertions.push({ ...payload, grant_type: form.get('grant_type'), scope: form.get('scope') });
      return Response.json({ access_token: 'tok', expires_in: 3600 });
    }
    state.posting += 1;
    await hold;
    if (state.down) return new Response('down', { status: 503 });
    state.scores.push({ url, type: headers.get('content-type'), auth: headers.get('authorization'), body: JSON.parse(String(init?.body)) });
    return new Response(null, { status: 204 });
  }) as typeof fetch;
  return { state, transport, holdPosts: (until: Promise<void>) => (hold = until) };
}

const open = openedPerTest();

async function setup(backend: TestBackend, on?: SqlStore) {
  const store = on ?? (await open(backend));
  const learner = (await learnerService({ store }).create()).learner.id;
  let now = new Date('2026-12-07T10:00:00Z');
  const { state, transport, holdPosts } = platformTransport(() => now);
  const lines: string[] = [];
  const passbackOn = (s: SqlStore) => gradePassback({ store: s, platforms: [platform], key, fetch: transport, clock: () => now, log: (line) => lines.push(line) });
  const grades = passbackOn(store);
  await store.run(
    "INSERT INTO lti_grade_links (learner_id, activity_kind, activity_slug, issuer, client_id, subject, lineitem, scopes, updated_at) VALUES (?, 'quiz', 'l18', ?, 'client-1', 'lms-user-7', 'https://lms.example.edu/li/3?course=9', 'score', '')",
    [learner, platform.issuer],
  );
  const completed: LearningEvent = { type: 'completed', learnerId: learner, activity: { kind: 'quiz', slug: 'l18', title: 'L18 quiz' }, at: '2026-12-07T10:00:00.000Z', runId: 'a1', score: { scaled: 0.75, raw: 6, max: 8 }, success: true };
  return { store, grades, passbackOn, state, holdPosts, lines, completed, learner, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe.each(testStores())('grade passback on $name', (backend) => {
  it('posts the completion score to {lineitem}/scores with a token got by a signed client assertion', async () => {
    const { grades, state, completed } = await setup(backend);
    await grades.listener(completed);
    await grades.idle();
    expect(state.scores).toEqual([
      {
        url: 'https://lms.example.edu/li/3/scores?course=9',
        type: SCORE_MEDIA_TYPE,
        auth: 'Bearer tok',
        body: { userId: 'lms-user-7', scoreGiven: 6, scoreMaximum: 8, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: '2026-12-07T10:00:00.000Z' },
      },
    ]);
    expect(state.assertions[0]).toMatchObject({ grant_type: 'client_credentials', scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/score', aud: platform.tokenUrl });
    expect(await grades.pending()).toEqual([]);
  });

  it('posts a lab launched from the LMS when the lab is completed (every step passed), with the run\'s score', async () => {
    const { grades, state, store, learner } = await setup(backend);
    await store.run("INSERT INTO lti_grade_links (learner_id, activity_kind, activity_slug, issuer, client_id, subject, lineitem, scopes, updated_at) VALUES (?, 'lab', 'l18', ?, 'client-1', 'lms-user-7', 'https://lms.example.edu/li/4', 'score', '')", [learner, platform.issuer]);
    // The lab service's event (tests/integration/lab-learning-events.test.ts proves it on a real cluster).
    await grades.listener({ type: 'completed', learnerId: learner, activity: { kind: 'lab', slug: 'l18', title: 'L18' }, at: '2026-12-07T10:05:00.000Z', runId: 'r1', score: { scaled: 0.9, raw: 5.4, max: 6 }, success: true });
    await grades.idle();
    expect(state.scores).toEqual([expect.objectContaining({ url: 'https://lms.example.edu/li/4/scores', body: expect.objectContaining({ userId: 'lms-user-7', scoreGiven: 5.4, scoreMaximum: 6, gradingProgress: 'FullyGraded' }) })]);
  });

  it('ignores other events and activities the learner did not launch from an LMS', async () => {
    const { grades, completed } = await setup(backend);
    expect(await grades.enqueue({ ...completed, type: 'launched' } as LearningEvent)).toBe(0);
    expect(await grades.enqueue({ ...completed, activity: { kind: 'lab', slug: 'l18', title: 'x' } })).toBe(0);
  });

  it('keeps a score while the platform is down and delivers it once, after the backoff', async () => {
    const { grades, state, completed, advance, lines } = await setup(backend);
    state.down = true;
    await grades.listener(completed);
    await grades.idle();
    expect(await grades.pending()).toMatchObject([{ attempts: 1, lastError: expect.stringMatching(/503/), failed: false }]);
    expect(lines[0]).toMatch(/failed \(try 1; next at 2026-12-07T10:00:05/);
    state.down = false;
    await grades.drain(); // not due yet
    expect(state.scores).toHaveLength(0);
    advance(5000);
    await grades.drain();
    await grades.drain();
    expect(state.scores).toHaveLength(1);
    expect(await grades.pending()).toEqual([]);
  });

  it('stops trying after MAX_ATTEMPTS but keeps the score, saying why', async () => {
    const { grades, state, completed, advance } = await setup(backend);
    state.down = true;
    await grades.enqueue(completed);
    for (let i = 0; i < MAX_ATTEMPTS + 3; i++) {
      await grades.drain();
      advance(3600_000);
    }
    expect(await grades.pending()).toMatchObject([{ attempts: MAX_ATTEMPTS, failed: true }]);
  });

  it('two drains at once (two processes on PostgreSQL) post each score once; a score a dead drain held is posted after its claim runs out', async () => {
    // On PostgreSQL the second drain has its own pool on the same database, as a second process would.
    const stores = backend.openTogether ? await backend.openTogether(2, allMigrations) : undefined;
    try {
      const { grades, passbackOn, state, holdPosts, completed, store, advance } = await setup(backend, stores?.[0]);
      const other = passbackOn(stores?.[1] ?? store);
      for (let i = 0; i < 6; i++) await grades.enqueue({ ...completed, score: { ...completed.score, raw: i } });
      await Promise.all([grades.drain(), other.drain()]);
      expect(state.scores.map((s) => (s.body as { scoreGiven: number }).scoreGiven).toSorted()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(await grades.pending()).toEqual([]);

      // A drain whose post never ends (its process died): the other drain does not take the score until the claim runs out.
      await grades.enqueue(completed);
      let release!: () => void;
      holdPosts(new Promise<void>((resolve) => (release = resolve)));
      const stuck = grades.drain();
      await expect.poll(() => state.posting, { timeout: 10_000 }).toBe(7);
      holdPosts(Promise.resolve());
      await other.drain();
      expect(state.scores).toHaveLength(6);
      advance(CLAIM_MS);
      await other.drain();
      expect(state.scores).toHaveLength(7);
      release();
      await stuck;
    } finally {
      if (stores) await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('builds the scores URL before the line item\'s query', () => {
    expect(scoresUrl('https://lms.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1')).toBe('https://lms.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1');
  });
});
