// A real server while its PostgreSQL restarts (issue 21's third failure case): requests that arrive
// while the database is down wait for it (nothing was sent, so nothing can apply twice) and, once
// it is back, each is applied (none lost, none applied twice: the answer is one row per question);
// the learner sees the saved name and the saved answer. A
// database that stays away answers 503 with what to do, never a 500, and the process lives on.
// The database is this test's own (scripts/postgres.sh), so stopping it disturbs no other test.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

const script = path.resolve(import.meta.dirname, '../../scripts/postgres.sh');
const postgres = (command: string, dir: string) => promisify(execFile)('bash', [script, command, dir], { timeout: 120_000 });

let dir = '';
let server: RealServer | undefined;

async function call<T>(method: string, target: string, body?: unknown, cookie?: string): Promise<{ status: number; body: T; cookie: string }> {
  const response = await fetch(`${server!.base}${target}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-server-pg-restart-'));
  const url = (await postgres('start', dir)).stdout.trim();
  server = await startRealServer({ IRLAB_DATABASE_URL: url });
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await postgres('stop', dir).catch(() => undefined);
}, 120_000);

describe('a server whose PostgreSQL restarts', () => {
  it('holds the requests made while it is down and applies each once when it is back', async () => {
    const created = await call<{ id: string }>('PUT', '/api/me', { displayName: 'Before' });
    expect(created.status).toBe(200);
    const ana = created.cookie;
    const attempt = await call<{ attempt: { id: string; questions: Array<{ id: string; options?: Array<{ id: string }> }> } }>('POST', '/api/quizzes/l18/attempts', {}, ana);
    expect(attempt.status).toBe(200);
    const question = attempt.body.attempt.questions.find((q) => q.options?.length)!;

    await postgres('pause', dir);
    const during = Promise.all([
      call<{ displayName?: string }>('GET', '/api/me', undefined, ana),
      call<{ displayName?: string }>('PUT', '/api/me', { displayName: 'During' }, ana),
      call('POST', `/api/quizzes/l18/attempts/${attempt.body.attempt.id}/answers`, { questionId: question.id, answer: question.options![0]!.id }, ana),
    ]);
    await postgres('resume', dir);
    const [read, rename, answer] = await during;
    expect([read.status, rename.status, answer.status]).toEqual([200, 200, 200]);
    expect(read.body.displayName).toMatch(/^(Before|During)$/);
    expect((await call<{ displayName?: string }>('GET', '/api/me', undefined, ana)).body.displayName).toBe('During');
    const state = await call<{ attempts?: unknown }>('GET', '/api/quizzes/l18', undefined, ana);
    expect(state.status).toBe(200);
    expect(JSON.stringify(state.body).split(`"${question.id}"`).length - 1, JSON.stringify(state.body).slice(0, 400)).toBeGreaterThanOrEqual(1);
    expect(server!.exit()).toBeNull();
  }, 180_000);

  it('answers 503 with what to do while the database stays away, and serves again once it is back', async () => {
    const { cookie } = await call('PUT', '/api/me', { displayName: 'Bo' });
    await postgres('pause', dir);
    try {
      // Past the store's 30 s of retries: a 503 that says so, not a 500 with the driver's words.
      const refused = await call<{ error?: string }>('PUT', '/api/me', { displayName: 'Gone' }, cookie);
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatch(/database did not answer/);
      expect(server!.exit()).toBeNull();
    } finally {
      await postgres('resume', dir);
    }
    const back = await call<{ displayName?: string }>('PUT', '/api/me', { displayName: 'Back' }, cookie);
    expect(back.status).toBe(200);
    expect(back.body.displayName).toBe('Back');
  }, 180_000);
});
