// A drill through fronts and cells, as processes: 2 fronts and 2 cells (real serve.ts over the built
// site, loopback ports, one PostgreSQL database). The facilitator creates a drill through front 1
// (it is placed on a cell, which claims and seeds its cluster); a participant joins through front 2;
// the facilitator's live feed through front 1 and the participant's through front 2 both see a note,
// a manual inject and the scheduled inject the cell's clock fires; the participant's drill terminal,
// opened through front 2, runs kubectl on the drill's cluster (the drill's cell, not a lab cell of
// hers); the scoreboard reads the same through both fronts. Only the owning cell runs the drill's
// timers: it says so in its log, and the scoreboard passes of the three other processes would mark
// the cluster gone (none of them has it), yet it stays ready. Then the cell is killed: the front that
// gives it up ends the drill with a log entry (log and scoreboard kept) and drill requests answer
// 503 saying what happened.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DrillServerMessage, DrillView, LogEntry } from '../../src/lib/drill-view.ts';
import type { RealServer } from '../integration/hostile/real-server.ts';
import { call, startFrontsAndCells, TerminalClient, until, type FrontsAndCells } from './cells-harness.ts';

let setup: FrontsAndCells | undefined;
let killed: { id: string; server: RealServer } | undefined;

/** A browser's drill room socket: auth (facilitator) or cookie (participant), hello, then entries. */
class DrillFeed {
  entries: LogEntry[] = [];
  states = 0;
  ws: WebSocket | undefined;
  closed: { code: number } | undefined;
  async connect(url: string, headers: Record<string, string>, token?: string): Promise<void> {
    const ws = new WebSocket(url, { headers });
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as DrillServerMessage;
      if (message.type === 'snapshot') this.entries = [...message.drill.log];
      else if (message.type === 'entry' && !this.entries.some((e) => e.seq === message.entry.seq)) this.entries.push(message.entry);
      else if (message.type === 'state') this.states++;
    });
    ws.on('close', (code) => (this.closed = { code }));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject), ws.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)))));
    if (token) ws.send(JSON.stringify({ type: 'auth', token }));
    ws.send(JSON.stringify({ type: 'hello', afterSeq: 0 }));
  }
  seen(title: string | RegExp): Promise<LogEntry> {
    return until(`the feed to show "${String(title)}"`, async () => this.entries.find((e) => (typeof title === 'string' ? e.title === title : title.test(e.title))), 60_000);
  }
}

beforeAll(async () => {
  // Scoreboard passes every 2 s: any process scoring a drill whose cluster it lacks marks it gone quickly.
  setup = await startFrontsAndCells(inject('postgresUrl'), { cellIds: ['cell-a', 'cell-b'], frontCount: 2, key: randomBytes(48).toString('base64'), env: { IRLAB_DRILL_SCORE_SECONDS: '2' } });
}, 240_000);

afterAll(async () => {
  if (killed) await setup?.returnCell(killed.id, killed.server).catch((error: unknown) => console.error(`the killed cell did not come back to reap: ${String(error)}`));
  await setup?.stop();
}, 180_000);

describe('a drill through two fronts on the cell that holds it', () => {
  it('creates, joins, feeds, terminals and scores through either front; only the owning cell runs its timers; a lost cell ends it', async () => {
    const { fronts, cells, query } = setup!;
    const [front1, front2] = fronts as [RealServer, RealServer];

    // The facilitator (no learner cookie) creates the drill through front 1.
    const created = await call<{ error?: string; drill: DrillView; facilitatorToken: string }>(front1.base, '/api/drills', { body: { scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Investigator', 'Scribe'] } });
    expect(created.status, created.body.error).toBe(201);
    const { drill, facilitatorToken } = created.body;
    const bearer = { authorization: `Bearer ${facilitatorToken}` };
    const placements = await query<{ run_kind: string; run_id: string; cell_id: string }>('SELECT run_kind, run_id, cell_id FROM placements');
    expect(placements).toEqual([expect.objectContaining({ run_kind: 'drill', run_id: drill.id })]);
    const homeId = placements[0]!.cell_id;
    const home = cells.get(homeId)!;
    const [otherId, other] = [...cells.entries()].find(([id]) => id !== homeId)!;
    // A cell refuses a drill's changes without a front's header.
    expect((await call(home.base, `/api/drills/${drill.id}/log`, { body: { kind: 'note', text: 'hi' }, headers: bearer })).status).toBe(403);

    // Read through front 2 (the database): the cell claims and seeds the cluster.
    const ready = await until('the drill cluster ready', async () => {
      const view = await call<DrillView>(front2.base, `/api/drills/${drill.id}`, { headers: bearer });
      if (view.body.cluster.status === 'failed') throw new Error(`the drill cluster failed: ${view.body.cluster.message}`);
      return view.body.cluster.status === 'ready' ? view.body : undefined;
    }, 240_000);
    expect(ready.facilitator).toBe(true);
    console.log(`drill through fronts: create through a front ${created.ms.toFixed(0)} ms; cluster claimed and seeded on ${homeId} ${((Date.parse(ready.log.find((e) => e.title === 'Cluster ready')?.at ?? '') - Date.parse(ready.createdAt)) / 1000).toFixed(1)} s after`);

    // A participant joins through front 2 (front 2 makes her learner session).
    const joined = await call<{ error?: string; participant: { name: string } }>(front2.base, '/api/drills/join', { body: { code: drill.code, name: 'Ana', role: 'Investigator' } });
    expect(joined.status, joined.body.error).toBe(200);
    const ana = joined.cookie;
    expect(ana).toMatch(/^irlab_session=/);

    // The live feeds: the facilitator's through front 1, the participant's through front 2.
    const facilitatorFeed = new DrillFeed();
    await facilitatorFeed.connect(`ws://127.0.0.1:${front1.port}/ws/drills/${drill.id}`, { origin: front1.base }, facilitatorToken);
    const participantFeed = new DrillFeed();
    await participantFeed.connect(`ws://127.0.0.1:${front2.port}/ws/drills/${drill.id}`, { origin: front2.base, cookie: ana });
    for (const feed of [facilitatorFeed, participantFeed]) await feed.seen('Ana joined');
    // Another site's page cannot open the feed through a front.
    await expect(new DrillFeed().connect(`ws://127.0.0.1:${front1.port}/ws/drills/${drill.id}`, { origin: 'https://elsewhere.example', cookie: ana })).rejects.toThrow(/403/);

    // The clock starts (through front 2): the cell's scheduler fires the T+0 inject; a note and a manual inject through the fronts.
    const started = await call<{ error?: string }>(front2.base, `/api/drills/${drill.id}/control`, { body: { action: 'start' }, headers: bearer });
    expect(started.status, started.body.error).toBe(200);
    const note = await call<{ error?: string }>(front1.base, `/api/drills/${drill.id}/log`, { body: { kind: 'decision', text: 'Quarantine the web-app pod' }, cookie: ana });
    expect(note.status, note.body.error).toBe(201);
    const manual = await call<{ error?: string }>(front2.base, `/api/drills/${drill.id}/injects`, { body: { title: 'Legal is asking', body: 'Is customer data at risk?' }, headers: bearer });
    expect(manual.status, manual.body.error).toBe(201);
    for (const feed of [facilitatorFeed, participantFeed]) {
      await feed.seen('Drill started');
      await feed.seen('Quarantine the web-app pod');
      await feed.seen('Legal is asking');
      expect((await feed.seen('Incident declared')).kind).toBe('inject');
    }

    // The participant's drill terminal through front 2: on the drill's cluster, on the drill's cell.
    const opened = await call<{ error?: string; sessionId: string }>(front2.base, `/api/drills/${drill.id}/terminal`, { body: {}, cookie: ana });
    expect(opened.status, opened.body.error).toBe(200);
    const shell = new TerminalClient();
    await shell.connect(`ws://127.0.0.1:${front2.port}/ws/terminal/${opened.body.sessionId}`, { cookie: ana, origin: front2.base });
    expect(await shell.run('kubectl get ns')).toMatch(/kube-system/);
    // Her shell took no lab placement of her own: it is the drill's cell's.
    expect(await query('SELECT run_id FROM placements WHERE run_kind = $1', ['lab'])).toEqual([]);
    shell.ws!.close();

    // The scoreboard, scored on the cell, reads the same through both fronts; after several passes
    // of every process's timers the cluster is still ready (another process scoring it would have
    // found no such cluster and marked it gone).
    const scored = await until('a scoreboard pass', async () => {
      const view = await call<DrillView>(front1.base, `/api/drills/${drill.id}`, { headers: bearer });
      return view.body.scoreboard.every((row) => row.criteria.length > 0) ? view.body : undefined;
    }, 120_000);
    const passes = (await query<{ n: string }>('SELECT COUNT(*) AS n FROM drill_scores WHERE drill_id = $1', [drill.id]))[0]!.n;
    expect(Number(passes)).toBeGreaterThan(0);
    await until('three more scoreboard intervals', async () => ((await call<DrillView>(front1.base, `/api/drills/${drill.id}`, { headers: bearer })).body.clock.elapsedMs > 8_000 ? true : undefined), 60_000);
    const viaFront1 = await call<DrillView>(front1.base, `/api/drills/${drill.id}`, { cookie: ana });
    const viaFront2 = await call<DrillView>(front2.base, `/api/drills/${drill.id}`, { cookie: ana });
    expect(viaFront1.body.cluster.status).toBe('ready');
    expect(viaFront2.body.scoreboard.map((r) => [r.step, r.passedAt])).toEqual(viaFront1.body.scoreboard.map((r) => [r.step, r.passedAt]));
    expect(scored.scoreboard.map((r) => r.step)).toEqual(viaFront1.body.scoreboard.map((r) => r.step));
    // Who runs the drill's timers: the owning cell says so; the other cell and the fronts do not.
    const hosting = new RegExp(`drill ${drill.id} is placed on this cell`);
    expect(home.output.some((line) => hosting.test(line))).toBe(true);
    for (const server of [other, front1, front2]) expect(server.output.some((line) => hosting.test(line))).toBe(false);
    for (const server of [front1, front2]) expect(server.output.join('\n')).not.toMatch(/irlab drills: this/);
    expect(other.output.join('\n')).not.toContain(drill.id);

    // The cell dies: its placements are lost; a drill request answers 503 saying what happened,
    // the drill is ended with a log entry, and its log and scoreboard are kept.
    home.child.kill('SIGKILL');
    await home.exited;
    killed = { id: homeId, server: home };
    await until('the drill placement marked lost', async () => (Number((await query<{ lost: string }>('SELECT lost FROM placements WHERE run_kind = $1', ['drill']))[0]?.lost) === 1 ? true : undefined), 60_000);
    await until('the relayed feed to close', async () => participantFeed.closed, 30_000);
    // The front that gave the cell up ended its drill, before anyone asked.
    await until('the drill ended by the front', async () => ((await call<DrillView>(front1.base, `/api/drills/${drill.id}`, { headers: bearer })).body.state === 'ended' ? true : undefined), 30_000);
    const lost = await call<{ error: string; lost?: boolean }>(front2.base, `/api/drills/${drill.id}/log`, { body: { kind: 'note', text: 'still there?' }, cookie: ana });
    expect(lost.status).toBe(503);
    expect(lost.body.error).toMatch(/has stopped, so the drill was ended.*log and scoreboard are kept.*creates a new drill/);
    const after = await call<DrillView>(front1.base, `/api/drills/${drill.id}`, { headers: bearer });
    expect(after.body.state).toBe('ended');
    expect(after.body.log.map((e) => e.title)).toEqual(expect.arrayContaining(['Quarantine the web-app pod', 'Legal is asking', 'Drill ended: its server stopped']));
    expect(after.body.scoreboard.map((r) => r.step)).toEqual(viaFront1.body.scoreboard.map((r) => r.step));
    expect(otherId).not.toBe(homeId);
    facilitatorFeed.ws!.close();
    // The cell returns on its data directory and reaps the drill's cluster.
    await setup!.returnCell(homeId, home);
    killed = undefined;
  }, 900_000);
});
