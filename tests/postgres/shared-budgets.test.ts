// Learners' budgets across fronts and cells, as processes: 2 fronts and 2 cells (real serve.ts over
// the built site, loopback ports, one PostgreSQL database) with a starts-per-address budget of 2.
// Browsers are client sockets bound to their own loopback addresses (127.0.0.2, 127.0.0.3: all of
// 127/8 is the host's on Linux). A cell charges the browser's address its front signed, not the
// front's; the budget is the database's, so Starts from one address through two fronts, landing on
// two cells, spend ONE budget, and two browsers behind one front do not share one.
// The Starts name a lab that does not exist: the budget is charged before the lab is looked up (a
// refused request costs nothing), so the cell answers 404 and no cluster is made.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { freshDatabase } from './fresh-database.ts';
import { query as queryDatabase } from './lab-client.ts';

const KEY = 'shared-budgets-test-forward-key-0123456789abcdef';
let database: { url: string; drop(): Promise<void> } | undefined;
const servers: RealServer[] = [];
const fronts: RealServer[] = [];

const query = <T>(sql: string) => queryDatabase<T>(database!.url, sql);

/** A browser at `from` pressing Start (no cookie: a new learner each time). */
function start(front: RealServer, from: string): Promise<{ status: number; body: { error?: string; retryAfterSeconds?: number }; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: front.port, localAddress: from, method: 'POST', path: '/api/labs/no-such-lab/start', headers: { origin: front.base, 'content-type': 'application/json' }, timeout: 60_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as { error?: string }, retryAfter: res.headers['retry-after'] }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end('{}');
  });
}

beforeAll(async () => {
  database = await freshDatabase('irlab_budgets');
  const shared = { IRLAB_DATABASE_URL: database.url, IRLAB_CELL_FORWARD_KEY: KEY, IRLAB_CELL_HEARTBEAT_SECONDS: '1', IRLAB_CELL_EXPIRE_SECONDS: '30', IRLAB_LIMIT_STARTS_PER_ADDRESS: '2', IRLAB_LIMIT_STARTS_WINDOW_SECONDS: '600' };
  for (const id of ['cell-a', 'cell-b']) {
    const port = await freePort();
    servers.push(await startRealServer({ ...shared, PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: `http://127.0.0.1:${port}`, IRLAB_CELL_CAPACITY: '4' }));
  }
  for (let i = 0; i < 2; i++) fronts.push(await startRealServer({ ...shared, IRLAB_ROLE: 'front' }));
  servers.push(...fronts);
  for (const started = Date.now(); (await query("SELECT id FROM cells WHERE state = 'live'")).length < 2; ) {
    if (Date.now() - started > 60_000) throw new Error('the cells did not register within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 240_000);

afterAll(async () => {
  for (const server of servers) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
  await database?.drop();
}, 120_000);

describe('budgets with two fronts and two cells on one database', () => {
  it('charges the browser\'s address, once for every process', async () => {
    const [front1, front2] = fronts as [RealServer, RealServer];
    // One browser address through both fronts: its two Starts land on both cells and spend its budget of 2.
    const first = await start(front1, '127.0.0.2');
    const second = await start(front2, '127.0.0.2');
    expect([first.status, second.status], JSON.stringify([first.body, second.body])).toEqual([404, 404]);
    const third = await start(front1, '127.0.0.2');
    expect(third.status, JSON.stringify(third.body)).toBe(429);
    expect(third.body.error).toMatch(/^too many cluster starts from your address: at most 2 in 10 minutes; try again in \d+ s$/);
    expect(Number(third.retryAfter)).toBe(third.body.retryAfterSeconds);
    // The three were placed on both cells: the budget held across processes, not within one.
    expect(new Set((await query<{ cell_id: string }>('SELECT cell_id FROM placements')).map((p) => p.cell_id)).size).toBe(2);

    // Another browser behind the same front has a budget of its own (the front's address is nobody's).
    for (let i = 0; i < 2; i++) {
      const other = await start(front1, '127.0.0.3');
      expect(other.status, JSON.stringify(other.body)).toBe(404);
    }
    expect((await start(front2, '127.0.0.3')).status).toBe(429);
  }, 120_000);
});
