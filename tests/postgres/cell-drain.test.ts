// A cell told to stop with IRLAB_CELL_DRAIN_SECONDS (real serve.ts processes: one front, two cells,
// one PostgreSQL database): it takes no new learners (a new Start lands on the other cell) and
// keeps serving the learner it holds while it waits for her to finish; a second signal cuts the
// wait short, and only then is her placement lost (her next check says so).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOST_MESSAGE } from '../../src/server/front/front-proxy.ts';
import { engineChecked, freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { freshDatabase } from './fresh-database.ts';
import { query as queryDatabase } from './lab-client.ts';

let database: { url: string; drop(): Promise<void> } | undefined;
const cells = new Map<string, RealServer>();
let front: RealServer | undefined;

const select = <T>(sql: string) => queryDatabase<T>(database!.url, sql);
const placements = () => select<{ cell_id: string; learner_id: string; lost: number }>('SELECT cell_id, learner_id, lost FROM placements ORDER BY created_at');

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

async function post<T>(target: string, body: unknown, cookie = ''): Promise<{ status: number; body: T; cookie: string }> {
  const response = await fetch(`${front!.base}${target}`, {
    method: 'POST',
    headers: { origin: front!.base, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(300_000),
  });
  return { status: response.status, body: (await response.json()) as T, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? cookie };
}

beforeAll(async () => {
  database = await freshDatabase('irlab_drain');
  const shared = { IRLAB_DATABASE_URL: database.url, IRLAB_CELL_FORWARD_KEY: randomBytes(48).toString('base64'), IRLAB_CELL_HEARTBEAT_SECONDS: '1', IRLAB_CELL_EXPIRE_SECONDS: '4' };
  for (const id of ['cell-a', 'cell-b']) {
    const port = await freePort();
    cells.set(id, await startRealServer({ ...shared, PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: `http://127.0.0.1:${port}`, IRLAB_CELL_CAPACITY: '4', IRLAB_CELL_DRAIN_SECONDS: '600' }));
  }
  front = await startRealServer({ ...shared, IRLAB_ROLE: 'front' });
  await until('both cells live in the registry', async () => ((await select("SELECT id FROM cells WHERE state = 'live'")).length === 2 ? true : undefined));
  for (const cell of cells.values()) await engineChecked(cell);
}, 240_000);

afterAll(async () => {
  for (const server of [front, ...cells.values()]) await server?.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
  await database?.drop();
}, 180_000);

describe('a draining cell', () => {
  it('takes no new learners, serves the one it holds until a second signal, then lets her go', async () => {
    const ana = await post<{ error?: string }>('/api/labs/l18/start', {});
    expect(ana.status, ana.body.error).toBe(200);
    const [placed] = await placements();
    const home = cells.get(placed!.cell_id)!;
    const other = [...cells.entries()].find(([id]) => id !== placed!.cell_id)!;

    home.child.kill('SIGTERM');
    await until('the cell to say it waits for its learner', () => (home.output.some((line) => /draining: waiting up to 600 s for 1 learner/.test(line)) ? true : undefined));
    // Still hers: a check through the front is graded by the draining cell.
    const checked = await post<{ error?: string; result?: { criteria: unknown[] } }>('/api/labs/l18/check', { step: 'audit-policy' }, ana.cookie);
    expect(checked.status, checked.body.error).toBe(200);
    expect(checked.body.result?.criteria.length).toBeGreaterThan(0);
    // A new learner goes to the other cell.
    const bo = await post<{ error?: string }>('/api/labs/l18/start', {});
    expect(bo.status, bo.body.error).toBe(200);
    expect((await placements()).map((p) => p.cell_id)).toEqual([placed!.cell_id, other[0]]);
    expect(home.exit()).toBeNull();

    // The operator does not want to wait: a second signal, and the cell leaves now.
    home.child.kill('SIGTERM');
    await home.exited;
    expect(home.output.join('\n')).toMatch(/leaving with 1 learner\(s\) still placed here/);
    expect(Number((await placements()).find((p) => p.cell_id === placed!.cell_id)?.lost)).toBe(1);
    const after = await post<{ error?: string; lost?: boolean }>('/api/labs/l18/check', { step: 'audit-policy' }, ana.cookie);
    expect(after.status).toBe(503);
    expect(after.body).toMatchObject({ error: LOST_MESSAGE, lost: true });
  }, 600_000);
});
