// Hostile text against a real server on PostgreSQL. PostgreSQL's text cannot hold U+0000 and its
// driver refuses the whole statement, so text that SQLite would simply store became a 500 there:
// every endpoint that takes a body gets generated values with NUL characters (and other binary
// text), and a learner's own class, notes and profile get them too. Never a 5xx; the process lives.
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BODY_TARGETS } from '../integration/hostile/arbitraries.ts';
import { startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { freshDatabase } from './fresh-database.ts';

let server: RealServer | undefined;
let drop: () => Promise<void> = async () => {};
let learner = '';

async function send(method: string, target: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; cookie: string }> {
  const response = await fetch(`${server!.base}${target}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text(), cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

/** Text a learner could type or paste, NUL characters included. */
const nulText = fc.oneof(
  fc.constant('\u0000'),
  fc.string({ maxLength: 40 }).map((s) => `${s}\u0000${s}`),
  fc.string({ maxLength: 60, unit: 'binary' }),
);
const anyValue = fc.oneof(nulText, fc.array(nulText, { maxLength: 3 }), fc.dictionary(nulText, nulText, { maxKeys: 2 }), fc.integer());

beforeAll(async () => {
  const database = await freshDatabase('irlab_hostile');
  drop = database.drop;
  server = await startRealServer({ IRLAB_DATABASE_URL: database.url });
  learner = (await send('PUT', '/api/me', { displayName: 'Ana' })).cookie;
  expect(learner).not.toBe('');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await drop();
}, 60_000);

afterEach(async () => {
  expect(server!.exit(), server!.output.slice(-30).join('\n')).toBeNull();
  expect((await fetch(`${server!.base}/api/health`)).status).toBe(200);
});

describe('a server on PostgreSQL, given text with NUL characters', () => {
  it('answers every body endpoint with less than a 500', async () => {
    const targets = fc.constantFrom(...BODY_TARGETS).chain((target) =>
      fc.tuple(fc.constant(target), fc.record(Object.fromEntries(target.fields.map((field) => [field, anyValue])) as Record<string, fc.Arbitrary<unknown>>), fc.boolean()),
    );
    await fc.assert(
      fc.asyncProperty(targets, async ([target, body, withCookie]) => {
        const answer = await send(target.method, target.path, body, withCookie ? { cookie: learner } : {});
        expect(answer.status, `${target.method} ${target.path} ${JSON.stringify(body).slice(0, 200)}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
  }, 240_000);

  it("refuses NUL in a learner's own name, class join and notes with a 4xx that says why, or keeps the rest of the text", async () => {
    expect((await send('PUT', '/api/me', { displayName: 'A\u0000na' }, { cookie: learner })).status).toBeLessThan(500);
    const klass = await send('POST', '/api/classes', { name: 'Group \u0000 B' }, { authorization: `Bearer ${server!.instructorToken}` });
    expect(klass.status, klass.text).toBeLessThan(500);
    const created = await send('POST', '/api/classes', { name: 'Group B' }, { authorization: `Bearer ${server!.instructorToken}` });
    expect(created.status, created.text).toBe(201);
    const { joinCode } = JSON.parse(created.text) as { joinCode: string };
    const joined = await send('POST', '/api/classes/join', { code: joinCode, name: 'B\u0000ob' });
    expect(joined.status, joined.text).toBeGreaterThanOrEqual(400);
    expect(joined.status, joined.text).toBeLessThan(500);
    const notes = await send('PUT', '/api/labs/l18/notes', { text: 'kubectl get pods\u0000 -A' }, { cookie: learner });
    expect(notes.status, notes.text).toBeLessThan(500);
  });
});
