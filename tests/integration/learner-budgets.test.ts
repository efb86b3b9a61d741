// Budgets against the real built server (src/server/app/serve.ts with Astro's bundle): queries
// run in worker threads with a time budget, so expensive ones never stall /api/health; a query
// nested too deep is a 400 with its column, not an empty 500; anonymous lab starts from one
// address stop at the address's budget with 429. The cluster engine is unavailable to this
// server (an empty IRLAB_CACHE), so no start can create a cluster.

import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

/**
 * An audit log whose events are cheap to read and expensive to match: each requestObject nests
 * arrays four levels deep (10,000 leaves), and a path through them visits every leaf. Learners
 * shape requestObject themselves (whatever they apply is logged). 60 events, one 4 MB chunk.
 */
function nestedLog(): string {
  const nest = (depth: number): unknown => (depth === 0 ? 'x' : { a: Array.from({ length: 10 }, () => nest(depth - 1)) });
  const events = Array.from({ length: 60 }, (_, i) =>
    JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `ev-${i}`, verb: 'create', user: { username: 'someone' }, requestReceivedTimestamp: '2026-11-27T10:00:00.000000Z', requestObject: nest(4) }),
  );
  return `${events.join('\n')}\n`;
}
const EXPENSIVE = Array.from({ length: 312 }, () => 'requestObject.a.a.a.a == "y"').join(' OR ');

let work: string;
let server: RealServer;
let base: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-budgets-it-'));
  await mkdir(join(work, 'cache'));
  await writeFile(join(work, 'audit.log'), nestedLog());
  // An empty engine cache: no lab start can create a cluster.
  server = await startRealServer({
    IRLAB_CACHE: join(work, 'cache'),
    KWOK_WORKDIR: join(work, 'kwok'),
    IRLAB_AUDIT_LOG: join(work, 'audit.log'),
    IRLAB_QUERY_BUDGET_SECONDS: '1',
    IRLAB_QUERY_WORKERS: '1',
    IRLAB_LIMIT_STARTS_PER_ADDRESS: '3',
  });
  base = server.base;
}, 90_000);

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const query = (text: string) => fetch(`${base}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'file', query: text }) });

describe('the real server under expensive queries', () => {
  it('keeps answering /api/health while four expensive queries run, and stops each at its budget', async () => {
    const order: string[] = [];
    const queries = Array.from({ length: 4 }, async () => {
      try {
        const response = await query(EXPENSIVE);
        order.push('query');
        return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as unknown };
      } catch (error) {
        order.push('query failed');
        return { status: 0, error: String(error) };
      }
    });
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
      order.push('health');
    }
    const answers = await Promise.all(queries);
    // Every health check answered before the first query did: the queries never held the event loop.
    expect(order.slice(0, 10)).toEqual(Array(10).fill('health'));
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, retryAfter: '1', body: { ok: false, error: { message: 'the query did not finish within its 1 s budget', hint: expect.stringContaining('narrow the query') } } });
    }
    // The pool replaced the workers it stopped.
    const cheap = await query('verb == "create" | count');
    expect(cheap.status).toBe(200);
    expect(await cheap.json()).toMatchObject({ ok: true, output: { kind: 'rows', rows: [{ count: 60 }] } });
  }, 120_000);

  it('refuses 3,000 nested parentheses and 2,400 chained NOTs with 400, the reason and the column', async () => {
    const parens = await query(`${'('.repeat(3000)}verb == "get"${')'.repeat(3000)}`);
    expect(parens.status).toBe(400);
    expect(await parens.json()).toEqual({ ok: false, error: { message: 'this query nests parentheses and NOTs more than 64 levels deep', column: 65, length: 1, hint: expect.any(String) } });
    const nots = await query(`${'NOT '.repeat(2400)}verb == "get"`);
    expect(nots.status).toBe(400);
    expect(await nots.json()).toMatchObject({ ok: false, error: { message: expect.stringContaining('more than 64 levels deep'), column: 257 } });
  });
});

describe('cluster starts on the real server', () => {
  it('answers anonymous lab starts from one address past its budget with 429 and Retry-After, and creates no cluster', async () => {
    const start = (i: number) =>
      fetch(`${base}/api/labs/l18/start`, {
        method: 'POST',
        // A forwarded address is not trusted: every request counts against the socket's address.
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` },
        body: '{}',
      });
    for (let i = 1; i <= 3; i++) expect((await start(i)).status).not.toBe(429);
    const refused = await start(4);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^too many cluster starts from your address: at most 3 in 10 minutes; try again in \d+ s$/), retryAfterSeconds: Number(refused.headers.get('retry-after')) });
    expect(await readdir(join(work, 'kwok', 'clusters')).catch(() => [])).toEqual([]);
    expect(await readdir(join(work, 'cache'))).toEqual([]);
  });
});
