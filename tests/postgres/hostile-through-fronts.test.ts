// Hostile input through a front to its cell (real serve.ts processes: one front, one cell, one
// PostgreSQL database). The front reads bodies to route them (a drill join's code, a query's
// source), signs headers and relays sockets: every body endpoint gets generated values, with and
// without a learner's cookie, with forged `x-irlab-forward` headers of the browser's own, and
// queries of every source; sockets are opened on drill feeds and terminals that are not there.
// Never a 5xx; neither process ends; the cell is never reached without a front's header.
import fc from 'fast-check';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clusterRoute, drillRoute, isQueryRoute } from '../../src/server/cells/cluster-routes.ts';
import { FORWARD_HEADER } from '../../src/server/cells/forward-auth.ts';
import { BODY_TARGETS } from '../integration/hostile/arbitraries.ts';
import { engineChecked, freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { freshDatabase } from './fresh-database.ts';

let front: RealServer | undefined;
let cell: RealServer | undefined;
let drop: () => Promise<void> = async () => {};
let learner = '';

async function send(method: string, target: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; cookie: string }> {
  const response = await fetch(`${front!.base}${target}`, {
    method,
    headers: { origin: front!.base, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  return { status: response.status, text: await response.text(), cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40, unit: 'binary' }), fc.constant('\u0000'), fc.constant('../../etc/passwd'), fc.constant('x'.repeat(5000)));
const value = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 2 }));
/** What a browser may send as its own forward header: nothing, junk, or a header-shaped forgery. */
const forged = fc.oneof(
  fc.constant(undefined),
  fc.string({ minLength: 1, maxLength: 200 }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
  fc.tuple(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 40 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 40 })).map(([a, b]) => `v2.${a}.Y2VsbC1h.MTI3LjAuMC4x.9999999999.${b}.${'A'.repeat(43)}`),
);
const source = fc.oneof(fc.constantFrom('lab', 'file', 'drill:drl_000000000000', 'drill:../../x'), text, fc.constant(undefined));

beforeAll(async () => {
  const database = await freshDatabase('irlab_hostile_fronts');
  drop = database.drop;
  const shared = { IRLAB_DATABASE_URL: database.url, IRLAB_CELL_FORWARD_KEY: randomBytes(48).toString('base64') };
  const port = await freePort();
  cell = await startRealServer({ ...shared, PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: 'cell-h', IRLAB_CELL_URL: `http://127.0.0.1:${port}`, IRLAB_CELL_CAPACITY: '50' });
  front = await startRealServer({ ...shared, IRLAB_ROLE: 'front' });
  await engineChecked(cell);
  learner = (await send('PUT', '/api/me', { displayName: 'Ana' })).cookie;
  expect(learner).not.toBe('');
}, 180_000);

afterAll(async () => {
  await front?.stop();
  await cell?.stop();
  await drop();
}, 120_000);

afterEach(async () => {
  for (const server of [front!, cell!]) {
    expect(server.exit(), server.output.slice(-30).join('\n')).toBeNull();
    expect((await fetch(`${server.base}/api/health`)).status).toBe(200);
  }
});

describe('hostile input through a front to its cell', () => {
  it('answers every body endpoint, forged header or not, with less than a 500', async () => {
    const targets = fc.constantFrom(...BODY_TARGETS).chain((target) =>
      fc.tuple(fc.constant(target), fc.record(Object.fromEntries(target.fields.map((field) => [field, value])) as Record<string, fc.Arbitrary<unknown>>), fc.boolean(), forged),
    );
    await fc.assert(
      fc.asyncProperty(targets, async ([target, body, withCookie, header]) => {
        const answer = await send(target.method, target.path, body, { ...(withCookie ? { cookie: learner } : {}), ...(header ? { [FORWARD_HEADER]: header } : {}) });
        expect(answer.status, `${target.method} ${target.path} ${JSON.stringify(body).slice(0, 200)}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
      }),
      { numRuns: 250 },
    );
  }, 600_000);

  it('identifies nobody by a cookie that is no session, whatever its shape', async () => {
    const cookies = ['irlab_session=', 'irlab_session=x', `irlab_session=${'A'.repeat(8000)}`, 'irlab_session=%00%zz', 'irlab_session=a; irlab_session=b', '=;;=;', `${learner}; ${learner}`, 'irlab_session="quoted"'];
    for (const cookie of cookies) {
      for (const target of ['/api/labs/l18/check', '/api/query', '/api/drills/drl_000000000000/log', '/api/terminal/session']) {
        const answer = await send('POST', target, { step: 'audit-policy', source: 'lab', query: 'verb exists' }, { cookie });
        expect(answer.status, `${target} with ${cookie.slice(0, 40)}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
      }
    }
  });

  it('refuses, never fails on, join codes the front reads itself (found: NUL was a 500 from PostgreSQL)', async () => {
    for (const code of ['\u0000', 'AB\u0000CD', 'x'.repeat(5000), '../../', '%00', 'ABC-234', null, 7, { $ne: '' }]) {
      const answer = await send('POST', '/api/drills/join', { code, name: 'Ana', role: 'Investigator' });
      expect(answer.status, `${JSON.stringify(code).slice(0, 40)}: ${answer.text.slice(0, 200)}`).toBe(404);
    }
  });

  it('routes any query body: every source, broken JSON, a body too large', async () => {
    const bodies = fc.oneof(
      fc.record({ source, query: text, limit: fc.oneof(fc.integer(), text) }).map((b) => JSON.stringify(b)),
      fc.constantFrom('', '{', 'null', '[]', '"lab"', '{"source":"lab"', '\u0000', '{"source":{"$gt":""}}'),
    );
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (body, withCookie) => {
        const answer = await send('POST', '/api/query', body, withCookie ? { cookie: learner } : {});
        expect(answer.status, `${body.slice(0, 200)}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    // Larger than any body a front takes: refused whole, and the next request is served.
    const huge = await send('POST', '/api/query', JSON.stringify({ source: 'lab', query: 'x'.repeat(2 * 1024 * 1024) }), { cookie: learner });
    expect(huge.status).toBe(413);
    expect((await send('POST', '/api/query', { source: 'file', query: 'verb exists' }, { cookie: learner })).status).toBe(200);
  }, 300_000);

  it('refuses sockets to drill feeds and terminals that are not there, or not the caller\'s, without harm', async () => {
    const paths = fc.oneof(
      fc.constantFrom('/ws/drills/drl_000000000000', '/ws/drills/..', '/ws/terminal/none', '/ws/terminal/none?watch=1', '/ws/terminal/%00', '/ws/drills/x?learner=../../'),
      fc.string({ maxLength: 60 }).map((s) => `/ws/terminal/${encodeURIComponent(s)}`),
    );
    await fc.assert(
      fc.asyncProperty(paths, fc.boolean(), forged, async (path, withCookie, header) => {
        const outcome = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${front!.port}${path}`, { headers: { origin: front!.base, ...(withCookie ? { cookie: learner } : {}), ...(header ? { [FORWARD_HEADER]: header } : {}) } });
          ws.once('unexpected-response', (_req, res) => (resolve(`refused ${res.statusCode}`), ws.terminate()));
          ws.once('open', () => (resolve('open'), ws.close()));
          ws.once('error', (error) => resolve(`error ${error.message}`));
        });
        expect(outcome, path).toMatch(/^refused 4\d\d$/);
      }),
      { numRuns: 120 },
    );
  }, 300_000);

  it('keeps the cell closed to requests that did not come through the front', async () => {
    const bound = BODY_TARGETS.filter((t) => clusterRoute(t.method, t.path) !== undefined || drillRoute(t.method, t.path) !== undefined || isQueryRoute(t.method, t.path));
    expect(bound.length).toBeGreaterThan(10);
    for (const target of bound) {
      const answer = await fetch(`${cell!.base}${target.path}`, { method: target.method, headers: { 'content-type': 'application/json', cookie: learner, [FORWARD_HEADER]: 'v2.forged' }, body: '{}' });
      // The cell's own reads (a drill's view) are any server's; a change, a lab action or a query is a front's.
      expect(answer.status, target.path).toBe(403);
    }
  }, 120_000);
});
