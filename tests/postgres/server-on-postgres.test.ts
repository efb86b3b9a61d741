// irlab on PostgreSQL, end to end: two real server processes (serve.ts over the built site), each
// with its own data directory, on one database, which is what fronts and cells will share. Through
// server A an instructor creates a class, a learner joins it, answers and submits the L18 quiz,
// starts L18 on a real embedded cluster and checks a step. Server B, another process that never
// saw any of it, knows her by her cookie and shows her quiz score, her lab progress and the class
// dashboard. Neither data directory holds an SQLite database, and the database password appears
// in nothing either server printed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardView } from '../../src/lib/class-view.ts';
import { engineChecked, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { freshDatabase } from './fresh-database.ts';

let databaseUrl = '';
let dropDatabase: () => Promise<void> = async () => {};
let a: RealServer | undefined;
let b: RealServer | undefined;

async function call<T>(server: RealServer, target: string, init: { body?: unknown; cookie?: string; bearer?: boolean } = {}): Promise<{ status: number; body: T; cookie: string }> {
  const response = await fetch(`${server.base}${target}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...(init.bearer ? { authorization: `Bearer ${server.instructorToken}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(240_000),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text;
  return { status: response.status, body: (json ? JSON.parse(text) : text) as T, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

beforeAll(async () => {
  const database = await freshDatabase('irlab_servers');
  databaseUrl = database.url;
  dropDatabase = database.drop;
  // One after the other: the second finds the migrations applied by the first.
  a = await startRealServer({ IRLAB_DATABASE_URL: databaseUrl });
  b = await startRealServer({ IRLAB_DATABASE_URL: databaseUrl });
}, 180_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await dropDatabase();
}, 120_000);

describe('two servers on one PostgreSQL database', () => {
  it('share learners, classes, quiz attempts and lab progress; neither keeps them in SQLite', async () => {
    const A = a!;
    const B = b!;
    const created = await call<{ id: string; joinCode: string; error?: string }>(A, '/api/classes', { body: { name: 'Postgres class' }, bearer: true });
    expect(created.status, created.body.error).toBe(201);
    const classId = created.body.id;
    expect((await call(A, `/api/classes/${classId}`, { body: { action: 'assign', kind: 'lab', slug: 'l18' }, bearer: true })).status).toBe(200);
    const joined = await call<{ error?: string }>(A, '/api/classes/join', { body: { code: created.body.joinCode, name: 'Ana' } });
    expect(joined.status, joined.body.error).toBe(200);
    const ana = joined.cookie;
    expect(ana).not.toBe('');
    const me = await call<{ id: string }>(A, '/api/me', { cookie: ana });

    // The quiz: one answer, submitted.
    const attempt = await call<{ attempt: { id: string; questions: Array<{ id: string; options?: Array<{ id: string }> }> } }>(A, '/api/quizzes/l18/attempts', { body: {}, cookie: ana });
    expect(attempt.status).toBe(200);
    const question = attempt.body.attempt.questions.find((q) => q.options?.length)!;
    expect((await call(A, `/api/quizzes/l18/attempts/${attempt.body.attempt.id}/answers`, { body: { questionId: question.id, answer: question.options![0]!.id }, cookie: ana })).status).toBe(200);
    const submitted = await call<{ attempt: { score: { max: number } } }>(A, `/api/quizzes/l18/attempts/${attempt.body.attempt.id}/submit`, { body: {}, cookie: ana });
    expect(submitted.status).toBe(200);

    // The lab, on a real cluster server A creates: started, its first step checked (failing).
    await engineChecked(A);
    const started = await call<{ error?: string }>(A, '/api/labs/l18/start', { body: {}, cookie: ana });
    expect(started.status, started.body.error).toBe(200);
    const checked = await call<{ error?: string }>(A, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checked.status, checked.body.error).toBe(200);

    // Server B: the same learner by her cookie, her attempt and her lab progress, the class.
    expect((await call<{ id: string }>(B, '/api/me', { cookie: ana })).body.id).toBe(me.body.id);
    const attempts = await call<{ attempts?: Array<{ id: string; submittedAt: string | null }> }>(B, '/api/quizzes/l18', { cookie: ana });
    expect(JSON.stringify(attempts.body)).toContain(attempt.body.attempt.id);
    const lab = await call<{ steps: Array<{ id: string; checks?: number; status?: string }> }>(B, '/api/labs/l18', { cookie: ana });
    expect(lab.status).toBe(200);
    expect(JSON.stringify(lab.body)).toContain('audit-policy');
    const dashboard = await call<DashboardView>(B, `/api/classes/${classId}/dashboard`, { bearer: true });
    expect(dashboard.status).toBe(200);
    const row = dashboard.body.learners.find((l) => l.name === 'Ana')!;
    expect(row.labs[0]!.steps[0]).toMatchObject({ step: 'audit-policy', status: 'failing', checks: 1 });

    for (const server of [A, B]) {
      expect(existsSync(path.join(server.dataDir, 'irlab.db')), `${server.dataDir}/irlab.db`).toBe(false);
      expect(server.output.join('\n')).not.toContain(new URL(databaseUrl).password || 'no-password-in-url');
    }
    await call(A, '/api/labs/l18/reset', { body: {}, cookie: ana });
  }, 300_000);
});
