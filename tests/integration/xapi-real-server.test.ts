// Issue #20 through the real server process (serve.ts over the built site): a learner takes the
// L18 quiz over HTTP while the LRS answers 503, the server is stopped and started again on the
// same data directory, the LRS comes back, and every statement of that quiz is at the LRS once.
// The operator watches it on /api/health (instructor token), the learner sees none of it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLrsReceiver, type LrsReceiver } from './fixtures/lrs-receiver.ts';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

let work: string;
let receiver: LrsReceiver;
let server: RealServer | undefined;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-xapi-server-'));
  receiver = await startLrsReceiver();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await receiver.close();
  await rm(work, { recursive: true, force: true });
}, 60_000);

interface Health {
  xapi?: { delivered: number; waiting: number; refused: number; lastError: string | null };
}
async function health(s: RealServer, token = s.instructorToken): Promise<Health> {
  return (await (await fetch(`${s.base}/api/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as Health;
}
async function until(condition: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('xAPI from the real server', () => {
  it('a quiz submitted over HTTP while the LRS is down reaches it once it is back, across a server restart', async () => {
    const env = {
      IRLAB_XAPI_ENDPOINT: receiver.endpoint,
      IRLAB_XAPI_KEY: receiver.key,
      IRLAB_XAPI_SECRET: receiver.secret,
      IRLAB_XAPI_RETRY_MIN_MS: '50',
      IRLAB_XAPI_RETRY_MAX_MS: '500',
      IRLAB_PUBLIC_URL: 'https://irlab.test.example',
    };
    await receiver.setMode('unavailable');
    server = await startRealServer(env, { root: work });
    let cookie = '';
    const post = async (url: string, body?: unknown) => {
      const response = await fetch(`${server!.base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body ?? {}) });
      cookie ||= response.headers.get('set-cookie')?.split(';')[0] ?? '';
      const json = (await response.json()) as Record<string, unknown>;
      expect(response.status, JSON.stringify(json)).toBe(200);
      return json;
    };
    const named = await fetch(`${server.base}/api/me`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Ada Lovelace' }) });
    expect(named.status).toBe(200);
    cookie = named.headers.get('set-cookie')?.split(';')[0] ?? '';
    const started = (await post('/api/quizzes/l18/attempts')) as { attempt: { id: string; questions: Array<{ id: string; type: string; options?: Array<{ id: string }> }> } };
    const attempt = started.attempt;
    const single = attempt.questions.find((q) => q.type === 'single')!;
    await post(`/api/quizzes/l18/attempts/${attempt.id}/answers`, { questionId: single.id, answer: single.options![0]!.id });
    const submitted = (await post(`/api/quizzes/l18/attempts/${attempt.id}/submit`)) as { attempt: { score: { passed: boolean } } };
    const expected = ['launched', 'answered', ...(submitted.attempt.score.passed ? ['passed'] : []), 'completed'];

    // Without the token, nothing of the outbox; with it, the statements wait behind the 503s.
    expect(await health(server, 'wrong')).toEqual({ ok: true });
    await until(async () => /HTTP 503/.test((await health(server!)).xapi?.lastError ?? ''), 'a 503 on /api/health');
    expect((await health(server)).xapi).toMatchObject({ waiting: expected.length, delivered: 0, refused: 0 });

    await server.stop();
    server = await startRealServer(env, { root: work });
    const before = receiver.requests.length;
    await until(async () => receiver.requests.length > before, 'the restarted server to try again');
    await receiver.setMode('up');
    await until(async () => (await health(server!)).xapi?.waiting === 0, 'the outbox to drain');

    const stored = [...receiver.statements.values()] as Array<{ verb: { id: string }; object: { id: string }; actor: unknown }>;
    expect(stored.map((s) => s.verb.id.split('/').at(-1))).toEqual(expected);
    expect(stored[0]!.object.id).toBe('https://irlab.test.example/quizzes/l18');
    const me = (await (await fetch(`${server.base}/api/me`, { headers: { cookie } })).json()) as { id: string };
    expect(stored.map((s) => s.actor)).toEqual(expected.map(() => ({ objectType: 'Agent', name: 'Ada Lovelace', account: { homePage: 'https://irlab.test.example', name: me.id } })));
    expect((await health(server)).xapi).toMatchObject({ waiting: 0, refused: 0, delivered: expected.length });
    expect(server.output.join('\n')).not.toContain(receiver.secret);
  }, 240_000);
});
