import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import type { LearningEvent } from '../learners/learning-events.ts';
import { allMigrations, openStore } from '../store/index.ts';
import { gradePassback, MAX_ATTEMPTS, SCORE_MEDIA_TYPE, scoresUrl } from './grade-passback.ts';
import type { Platform } from './platforms.ts';
import { toolKeyFrom } from './tool-key.ts';
import { sqliteStore } from '../store/sqlite-store.ts';

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
  const state = { down: false, scores: [] as Array<{ url: string; type: string | null; auth: string | null; body: unknown }>, assertions: [] as Array<Record<string, unknown>> };
  const transport = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    if (url === platform.tokenUrl) {
      const form = new URLSearchParams(String(init?.body));
      const { payload } = await jwtVerify(form.get('client_assertion')!, createLocalJWKSet({ keys: [key.publicJwk] }), { audience: platform.tokenUrl, issuer: 'client-1', subject: 'client-1', currentDate: clock() });
      state.assertions.push({ ...payload, grant_type: form.get('grant_type'), scope: form.get('scope') });
      return Response.json({ access_token: 'tok', expires_in: 3600 });
    }
    if (state.down) return new Response('down', { status: 503 });
    state.scores.push({ url, type: headers.get('content-type'), auth: headers.get('authorization'), body: JSON.parse(String(init?.body)) });
    return new Response(null, { status: 204 });
  }) as typeof fetch;
  return { state, transport };
}

async function setup() {
  const store = openStore(':memory:', allMigrations);
  const learner = (await learnerService({ store: sqliteStore(store) }).create()).learner.id;
  let now = new Date('2026-12-07T10:00:00Z');
  const { state, transport } = platformTransport(() => now);
  const lines: string[] = [];
  const grades = gradePassback({ store, platforms: [platform], key, fetch: transport, clock: () => now, log: (line) => lines.push(line) });
  store
    .prepare("INSERT INTO lti_grade_links (learner_id, activity_kind, activity_slug, issuer, client_id, subject, lineitem, scopes, updated_at) VALUES (?, 'quiz', 'l18', ?, 'client-1', 'lms-user-7', 'https://lms.example.edu/li/3?course=9', 'score', '')")
    .run(learner, platform.issuer);
  const completed: LearningEvent = { type: 'completed', learnerId: learner, activity: { kind: 'quiz', slug: 'l18', title: 'L18 quiz' }, at: '2026-12-07T10:00:00.000Z', runId: 'a1', score: { scaled: 0.75, raw: 6, max: 8 }, success: true };
  return { store, grades, state, lines, completed, learner, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe('grade passback', () => {
  it('posts the completion score to {lineitem}/scores with a token got by a signed client assertion', async () => {
    const { grades, state, completed } = await setup();
    grades.listener(completed);
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
    expect(grades.pending()).toEqual([]);
  });

  it('posts a lab launched from the LMS when the lab is completed (every step passed), with the run\'s score', async () => {
    const { grades, state, store, learner } = await setup();
    store
      .prepare("INSERT INTO lti_grade_links (learner_id, activity_kind, activity_slug, issuer, client_id, subject, lineitem, scopes, updated_at) VALUES (?, 'lab', 'l18', ?, 'client-1', 'lms-user-7', 'https://lms.example.edu/li/4', 'score', '')")
      .run(learner, platform.issuer);
    // The lab service's event (tests/integration/lab-learning-events.test.ts proves it on a real cluster).
    grades.listener({ type: 'completed', learnerId: learner, activity: { kind: 'lab', slug: 'l18', title: 'L18' }, at: '2026-12-07T10:05:00.000Z', runId: 'r1', score: { scaled: 0.9, raw: 5.4, max: 6 }, success: true });
    await grades.idle();
    expect(state.scores).toEqual([expect.objectContaining({ url: 'https://lms.example.edu/li/4/scores', body: expect.objectContaining({ userId: 'lms-user-7', scoreGiven: 5.4, scoreMaximum: 6, gradingProgress: 'FullyGraded' }) })]);
  });

  it('ignores other events and activities the learner did not launch from an LMS', async () => {
    const { grades, completed } = await setup();
    expect(grades.enqueue({ ...completed, type: 'launched' } as LearningEvent)).toBe(0);
    expect(grades.enqueue({ ...completed, activity: { kind: 'lab', slug: 'l18', title: 'x' } })).toBe(0);
  });

  it('keeps a score while the platform is down and delivers it once, after the backoff', async () => {
    const { grades, state, completed, advance, lines } = await setup();
    state.down = true;
    grades.listener(completed);
    await grades.idle();
    expect(grades.pending()).toMatchObject([{ attempts: 1, lastError: expect.stringMatching(/503/), failed: false }]);
    expect(lines[0]).toMatch(/failed \(try 1; next at 2026-12-07T10:00:05/);
    state.down = false;
    await grades.drain(); // not due yet
    expect(state.scores).toHaveLength(0);
    advance(5000);
    await grades.drain();
    await grades.drain();
    expect(state.scores).toHaveLength(1);
    expect(grades.pending()).toEqual([]);
  });

  it('stops trying after MAX_ATTEMPTS but keeps the score, saying why', async () => {
    const { grades, state, completed, advance } = await setup();
    state.down = true;
    grades.enqueue(completed);
    for (let i = 0; i < MAX_ATTEMPTS + 3; i++) {
      await grades.drain();
      advance(3600_000);
    }
    expect(grades.pending()).toMatchObject([{ attempts: MAX_ATTEMPTS, failed: true }]);
  });

  it('builds the scores URL before the line item\'s query', () => {
    expect(scoresUrl('https://lms.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1')).toBe('https://lms.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1');
  });
});
