// Fronts and cells, as processes: 2 fronts and 2 cells (real serve.ts over the built site, loopback
// ports, one PostgreSQL database). A learner starts L18 through front 1 and checks a step through
// front 2 (the cell that holds the cluster does the work; a front holds none); opens the terminal
// through front 1 and runs kubectl; front 1 is killed; the client reconnects through front 2 with
// the protocol's replay (hello with lastOutputSeq) and finds the same shell. A cell serves none of
// this without a front's signed header. Figures (Start and keystroke echo, through a front and
// straight to the cell with a header the test signs) are printed.
// Not in this slice: a network namespace per cell (the cells are loopback ports of one host).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardSigner, FORWARD_HEADER } from '../../src/server/cells/forward-auth.ts';
import { engineChecked, freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { call, stats, TerminalClient, until } from './cells-harness.ts';
import { freshDatabase } from './fresh-database.ts';
import { query as queryDatabase } from './lab-client.ts';

const KEY = randomBytes(48).toString('base64');
let databaseUrl = '';
let dropDatabase: () => Promise<void> = async () => {};
const cells = new Map<string, RealServer>();
const fronts: RealServer[] = [];
let sharedEnv: Record<string, string> = {};

const query = <T>(sql: string, params: unknown[] = []) => queryDatabase<T>(databaseUrl, sql, params);

/** A cell killed by the test, until it has come back on its data directory to reap what it left. */
let killed: { id: string; server: RealServer } | undefined;
async function returnKilledCell(): Promise<void> {
  if (!killed) return;
  const { id, server } = killed;
  killed = undefined;
  const back = await startRealServer({ ...sharedEnv, PORT: String(server.port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: server.base }, { root: path.dirname(server.dataDir) });
  try {
    await until('the returning cell to reap', async () => (back.output.some((line) => /reaped \d+ cluster/.test(line)) ? true : undefined), 120_000);
  } finally {
    await back.stop();
  }
}

beforeAll(async () => {
  const database = await freshDatabase('irlab_cells');
  databaseUrl = database.url;
  dropDatabase = database.drop;
  const shared = (sharedEnv = { IRLAB_DATABASE_URL: databaseUrl, IRLAB_CELL_FORWARD_KEY: KEY, IRLAB_CELL_HEARTBEAT_SECONDS: '1', IRLAB_CELL_EXPIRE_SECONDS: '4' });
  // The first migrates; the others find the tables.
  for (const id of ['cell-a', 'cell-b']) {
    const port = await freePort();
    cells.set(id, await startRealServer({ ...shared, PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: `http://127.0.0.1:${port}`, IRLAB_CELL_CAPACITY: '4' }));
  }
  for (let i = 0; i < 2; i++) fronts.push(await startRealServer({ ...shared, IRLAB_ROLE: 'front' }));
  await until('both cells live in the registry', async () => ((await query<{ id: string }>("SELECT id FROM cells WHERE state = 'live'")).length === 2 ? true : undefined));
  for (const cell of cells.values()) await engineChecked(cell);
}, 240_000);

afterAll(async () => {
  // Everything stops (and the killed cell's clusters and mounts are reaped) even after a failure.
  await returnKilledCell().catch((error: unknown) => console.error(`the killed cell did not come back to reap: ${String(error)}`));
  for (const server of [...fronts, ...cells.values()]) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
  await dropDatabase();
}, 180_000);

describe('two fronts and two cells on one database', () => {
  it('runs a lab and a terminal through either front on the cell that holds them; a killed front loses nothing', async () => {
    const [front1, front2] = fronts as [RealServer, RealServer];
    // A cell refuses cluster-bound requests without a front's header, whatever cookie comes with them.
    const cellA = cells.get('cell-a')!;
    const bare = await call<{ error: string }>(cellA.base, '/api/labs/l18/start', { body: {} });
    expect(bare.status).toBe(403);
    expect(bare.body.error).toMatch(/only through a front.*no x-irlab-forward header/);
    const forged = await call<{ error: string }>(cellA.base, '/api/terminal/session', { body: {}, headers: { [FORWARD_HEADER]: 'v1.bGVhcm5lcg.Y2VsbC1h.9999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(forged.status).toBe(403);

    // Start through front 1 (a new learner: the front sets her cookie); the browser's own header is dropped.
    const started = await call<{ error?: string; run?: { cluster: string } }>(front1.base, '/api/labs/l18/start', { body: {}, headers: { [FORWARD_HEADER]: 'v1.forged' } });
    expect(started.status, started.body.error).toBe(200);
    expect(started.body.run?.cluster).toBeTruthy();
    const ana = started.cookie;
    expect(ana).toMatch(/^irlab_session=/);
    const [placement] = await query<{ cell_id: string; run_id: string; lost: number }>('SELECT cell_id, run_id, lost FROM placements');
    expect(placement).toBeDefined();
    const home = cells.get(placement!.cell_id)!;
    const other = [...cells.entries()].find(([id]) => id !== placement!.cell_id)![1];
    // The cluster lives in the cell's own work dir.
    expect(home.output.join('\n')).toMatch(/lab|cluster/);

    // A check through front 2 and through front 1: the same verdicts, graded by the cell.
    const checked2 = await call<{ error?: string; result?: { criteria: unknown[] } }>(front2.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checked2.status, checked2.body.error).toBe(200);
    const checked1 = await call<{ result?: { criteria: unknown[] } }>(front1.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checked1.status).toBe(200);
    expect(checked2.body.result?.criteria.length).toBeGreaterThan(0);
    expect(JSON.stringify(checked1.body.result?.criteria)).toBe(JSON.stringify(checked2.body.result?.criteria));
    const view = await call<{ run?: { cluster: string }; steps: Array<{ id: string; checks?: number }> }>(front2.base, '/api/labs/l18', { cookie: ana });
    expect(view.body.run?.cluster).toBe(started.body.run?.cluster);
    // Neither front nor the other cell made a cluster.
    for (const server of [front1, front2, other]) expect(server.output.join('\n')).not.toContain(started.body.run!.cluster);
    // Her lab's audit log, queried through front 2, is read on the cell that holds it: the check's
    // own requests are there, counted by verb (the server's own file source stays the front's).
    const queried = await call<{ ok: boolean; summary?: { matched: number }; error?: { message: string } }>(front2.base, '/api/query', { body: { source: 'lab', query: 'verb exists | count by verb' }, cookie: ana });
    expect(queried.status, JSON.stringify(queried.body)).toBe(200);
    expect(queried.body.ok).toBe(true);
    expect(JSON.stringify(queried.body)).toMatch(/"(get|list)"/);
    const ownFile = await call<{ ok: boolean }>(front1.base, '/api/query', { body: { source: 'file', query: 'verb exists' }, cookie: ana });
    expect(ownFile.body.ok, JSON.stringify(ownFile)).toBe(true);

    // The terminal through front 1, on the lab's cluster.
    const opened = await call<{ sessionId: string; socketPath: string; cluster: string | null; error?: string }>(front1.base, '/api/terminal/session', { body: { cols: 200, rows: 50 }, cookie: ana });
    expect(opened.status, opened.body.error).toBe(200);
    expect(opened.body.cluster).toBe(started.body.run?.cluster);
    const client = new TerminalClient();
    await client.connect(`ws://127.0.0.1:${front1.port}${opened.body.socketPath}`, { cookie: ana, origin: front1.base });
    expect(await client.run('kubectl get ns')).toMatch(/kube-system/);
    await client.run('export IRLAB_SAME_SHELL=kept-$$');
    const shellPid = (await client.run('echo $$')).trim();
    const echoFront: number[] = [];
    for (let i = 0; i < 15; i++) echoFront.push(await client.echo());

    // An instructor (the bearer token, no learner session) watches her shell through the OTHER
    // front: the front checks the instructor and the class and routes the watch to her cell.
    const bearer = { authorization: `Bearer ${front2.instructorToken}` };
    const klass = await call<{ id: string; joinCode: string; error?: string }>(front2.base, '/api/classes', { body: { name: 'Watched class' }, headers: bearer });
    expect(klass.status, klass.body.error).toBe(201);
    const joined = await call<{ error?: string }>(front1.base, '/api/classes/join', { body: { code: klass.body.joinCode, name: 'Ana' }, cookie: ana });
    expect(joined.status, joined.body.error).toBeLessThan(300);
    // The dashboard on a front (no shells of its own) offers to watch her: she is placed on a live cell.
    const dashboard = await call<{ learners: Array<{ id: string; watchable: boolean }> }>(front2.base, `/api/classes/${klass.body.id}/dashboard`, { headers: bearer });
    expect(dashboard.body.learners).toEqual([expect.objectContaining({ id: placement!.run_id, watchable: true })]);
    const watchPath = `/api/classes/${klass.body.id}/watch?learner=${encodeURIComponent(placement!.run_id)}`;
    // Straight to the cell, even with the bearer: refused (a cell serves watches only through a front).
    expect((await call(home.base, watchPath, { headers: bearer })).status).toBe(403);
    expect((await call(front2.base, watchPath, { cookie: ana })).status).toBe(401);
    const watch = await call<{ sessionId: string; socketPath: string; error?: string }>(front2.base, watchPath, { headers: bearer });
    expect(watch.status, watch.body.error).toBe(200);
    expect(watch.body.sessionId).toBe(opened.body.sessionId);
    const watcher = new TerminalClient();
    await watcher.connect(`ws://127.0.0.1:${front2.port}${watch.body.socketPath}`, { ...bearer, origin: front2.base });
    await client.run('echo watched-$((6*7))');
    await until('the watcher to see her output', async () => (watcher.output.includes('watched-42') ? true : undefined), 30_000);
    // Her lab page, through either front, tells her she is watched (her cell has the shell).
    const notices = await call<{ watched: boolean }>(front1.base, '/api/classes/notices', { cookie: ana });
    expect(notices.body).toMatchObject({ watched: true });
    // Read-only: what the watcher types never reaches her shell.
    watcher.type('echo typed-by-watcher\r');
    expect(await client.run('echo after-watch')).toBe('after-watch\n');
    expect(client.output).not.toContain('typed-by-watcher');
    // Ana naming herself as watched is no instructor: the front routes her as herself and the cell refuses the watch.
    await expect(new TerminalClient().connect(`ws://127.0.0.1:${front1.port}${watch.body.socketPath}`, { cookie: ana, origin: front1.base })).rejects.toThrow(/403/);
    watcher.ws!.close();
    await until('her page to stop saying she is watched', async () => ((await call<{ watched: boolean }>(front2.base, '/api/classes/notices', { cookie: ana })).body.watched === false ? true : undefined), 30_000);

    // Front 1 dies; the browser reconnects through front 2, replaying from what it has.
    const seenBefore = client.lastSeq;
    front1.child.kill('SIGKILL');
    await front1.exited;
    await until('the relay to close', async () => (client.ws!.readyState === WebSocket.CLOSED ? true : undefined), 30_000);
    await client.connect(`ws://127.0.0.1:${front2.port}${opened.body.socketPath}`, { cookie: ana, origin: front2.base });
    expect(await client.run('echo $IRLAB_SAME_SHELL')).toBe(`kept-${shellPid}\n`);
    // Every chunk exactly once, in order, across the reconnect.
    expect(client.seqs).toEqual(client.seqs.map((_, i) => i + 1));
    expect(client.lastSeq).toBeGreaterThan(seenBefore);

    // Figures: the same shell straight to its cell, with a header the test signs as a front would.
    const signer = forwardSigner({ key: KEY });
    const learnerId = placement!.run_id;
    const direct = new TerminalClient();
    direct.lastSeq = client.lastSeq;
    await direct.connect(`ws://127.0.0.1:${home.port}${opened.body.socketPath}`, { [FORWARD_HEADER]: signer.sign({ method: 'GET', path: opened.body.socketPath, learnerId, cellId: placement!.cell_id, address: '127.0.0.1' }) });
    const echoDirect: number[] = [];
    for (let i = 0; i < 15; i++) echoDirect.push(await direct.echo());
    direct.ws!.close();

    // Start → running: Reset, then Start again, through front 2 and straight to the cell.
    const startFront: number[] = [];
    const startDirect: number[] = [];
    for (let i = 0; i < 2; i++) {
      expect((await call(front2.base, '/api/labs/l18/reset', { body: {}, cookie: ana })).status).toBe(200);
      const viaFront = await call<{ error?: string }>(front2.base, '/api/labs/l18/start', { body: {}, cookie: ana });
      expect(viaFront.status, viaFront.body.error).toBe(200);
      startFront.push(viaFront.ms);
      expect((await call(front2.base, '/api/labs/l18/reset', { body: {}, cookie: ana })).status).toBe(200);
      const path = '/api/labs/l18/start';
      const straight = await call<{ error?: string }>(home.base, path, { body: {}, headers: { [FORWARD_HEADER]: signer.sign({ method: 'POST', path, learnerId, cellId: placement!.cell_id, address: '127.0.0.1' }) } });
      expect(straight.status, straight.body.error).toBe(200);
      startDirect.push(straight.ms);
    }
    console.log(`fronts and cells: keystroke echo through a front ${stats(echoFront)}; straight to the cell ${stats(echoDirect)}`);
    console.log(`fronts and cells: Start → running (cold seeding, no warm pool) through a front ${stats(startFront)}; straight to the cell ${stats(startDirect)}`);
    client.ws!.close();

    // The cell dies: after the heartbeat window a front marks its placements lost; the learner is
    // told to start again, and a Start places her on the other cell (progress kept).
    home.child.kill('SIGKILL');
    await home.exited;
    killed = { id: placement!.cell_id, server: home };
    // (pg gives BIGINT columns as strings.)
    await until('the placement marked lost', async () => (Number((await query<{ lost: string }>('SELECT lost FROM placements'))[0]?.lost) === 1 ? true : undefined), 60_000);
    const lost = await call<{ error: string; lost?: boolean }>(front2.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(lost.status).toBe(503);
    expect(lost.body.error).toMatch(/press Start/);
    const again = await call<{ error?: string; run?: { cluster: string } }>(front2.base, '/api/labs/l18/start', { body: {}, cookie: ana });
    expect(again.status, again.body.error).toBe(200);
    expect((await query<{ cell_id: string; lost: string }>('SELECT cell_id, lost FROM placements'))[0]).toMatchObject({ cell_id: [...cells.entries()].find(([, s]) => s === other)![0], lost: '0' });
    const checkedAgain = await call<{ error?: string; checks?: number }>(front2.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checkedAgain.status, checkedAgain.body.error).toBe(200);
    // Progress kept: the checks made on the dead cell still count.
    const progress = await call<{ steps: Array<{ id: string; checks?: number }> }>(front2.base, '/api/labs/l18', { cookie: ana });
    expect(JSON.stringify(progress.body)).toContain('audit-policy');

    // The cell returns on its data dir: it reaps the clusters and shells its killed process left, then stops.
    await returnKilledCell();
  }, 600_000);
});
