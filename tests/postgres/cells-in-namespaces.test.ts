// Issue 21's multi-process test: 2 fronts and 3 cells (real serve.ts over the built site on one
// PostgreSQL database), each cell in a network namespace this test makes (cell-namespaces.ts: veth
// on the test's own /30s, PostgreSQL reached through a forwarder on the veth's host side). Proves
// the isolation (a cell's etcd and kube-apiserver, on its namespace's loopback, answer inside it
// and from nowhere else: neither the host nor another cell's namespace), that a learner's lab (Start,
// checks) and terminal work through either front on the cell that holds them, that placements
// spread over the three cells, and two of the failure cases on the same processes and
// clusters. A PostgreSQL restart (the server is this file's own, scripts/postgres.sh, so stopping it
// disturbs no other test file) longer than the cells' expiry window: requests fired through both
// fronts meanwhile (two checks, notes, a quiz answer, a rename) wait and are each applied exactly
// once; nothing exits; heartbeats resume; no cell is given up and no placement lost; the terminal
// stays open and echoes. A killed cell: its placement is lost, a check answers 503 with the lost
// message, a fresh Start lands on a live cell, and the cell on its return reaps what it left.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillView } from '../../src/lib/drill-view.ts';
import { LOST_MESSAGE } from '../../src/server/front/front-proxy.ts';
import { engineChecked, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { clusterPorts, listensIn, makeCellNamespaces, postgresForwarder, probe, startNamespacedCell, type CellNamespace, type CellNamespaces, type Forwarder, type NamespacedCell } from './cell-namespaces.ts';
import { call, query, TerminalClient, until } from './lab-client.ts';

const KEY = randomBytes(48).toString('base64');
const script = path.resolve(import.meta.dirname, '../../scripts/postgres.sh');
const postgres = async (command: string, dir: string) => (await promisify(execFile)('bash', [script, command, dir], { timeout: 120_000 })).stdout.trim();
const HEARTBEAT_S = 1;
const EXPIRE_S = 4;
let pgDir = '';
let databaseUrl = '';
let spaces: CellNamespaces | undefined;
const forwarders: Forwarder[] = [];
const cells: NamespacedCell[] = [];
const fronts: RealServer[] = [];
const leftRoots: string[] = [];
let sharedEnv: Record<string, string> = {};
const sql = <T>(text: string, params: unknown[] = []) => query<T>(databaseUrl, text, params);

async function startCell(n: number, options: { root?: string; port?: number } = {}): Promise<NamespacedCell> {
  const ns = spaces!.namespaces[n]!;
  return startNamespacedCell(ns, `cell-${n + 1}`, { ...sharedEnv, IRLAB_DATABASE_URL: forwarders[n]!.url, IRLAB_CELL_CAPACITY: '4' }, options);
}

beforeAll(async () => {
  pgDir = await mkdtemp(path.join(tmpdir(), 'irlab-netns-pg-'));
  databaseUrl = await postgres('start', pgDir);
  sharedEnv = { IRLAB_CELL_FORWARD_KEY: KEY, IRLAB_CELL_HEARTBEAT_SECONDS: String(HEARTBEAT_S), IRLAB_CELL_EXPIRE_SECONDS: String(EXPIRE_S) };
  spaces = await makeCellNamespaces(3);
  for (const ns of spaces.namespaces) forwarders.push(await postgresForwarder(databaseUrl, ns.hostAddress));
  // The first migrates; the others find the tables.
  for (let n = 0; n < 3; n++) cells.push(await startCell(n));
  for (let i = 0; i < 2; i++) fronts.push(await startRealServer({ ...sharedEnv, IRLAB_DATABASE_URL: databaseUrl, IRLAB_ROLE: 'front' }));
  await until('three cells live in the registry', async () => ((await sql<{ id: string }>("SELECT id FROM cells WHERE state = 'live'")).length === 3 ? true : undefined));
  for (const cell of cells) await engineChecked(cell);
}, 300_000);

afterAll(async () => {
  // A failed test may leave the database paused: back, so the cells can leave the registry.
  if (pgDir) await postgres('resume', pgDir).catch(() => undefined);
  for (const server of [...fronts, ...cells]) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
  for (const forwarder of forwarders) await forwarder.close();
  // Last: kills whatever is left in the namespaces (a killed cell's clusters), then checks none is left.
  await spaces?.teardown();
  for (const dir of leftRoots) await rm(dir, { recursive: true, force: true });
  if (pgDir) await postgres('stop', pgDir);
}, 180_000);

type Started = { error?: string; run?: { cluster: string } };
type Checked = { error?: string; result?: { criteria: unknown[] } };

describe('two fronts and three cells, each cell in a network namespace of its own', () => {
  const learners: Array<{ cookie: string; cluster: string; cellId: string }> = [];

  it('runs labs and terminals through either front, spread over the three cells, each cluster unreachable outside its namespace', async () => {
    // Three learners press Start at once through alternate fronts: one slot each, on three cells.
    const starts = await Promise.all([0, 1, 2].map((i) => call<Started>(fronts[i % 2]!.base, '/api/labs/l18/start', { body: {} })));
    for (const started of starts) {
      expect(started.status, `${JSON.stringify(started.body)}\n${[...fronts, ...cells].map((server) => server.output.slice(-8).join('\n')).join('\n--\n')}`).toBe(200);
      learners.push({ cookie: started.cookie, cluster: started.body.run!.cluster, cellId: '' });
    }
    const placements = await sql<{ cell_id: string; cluster: string }>('SELECT p.cell_id, r.cluster FROM placements p JOIN lab_runs r ON r.learner_id = p.learner_id AND r.ended_at IS NULL WHERE p.lost = 0');
    expect(placements).toHaveLength(3);
    expect(new Set(placements.map((p) => p.cell_id))).toEqual(new Set(['cell-1', 'cell-2', 'cell-3']));
    for (const learner of learners) learner.cellId = placements.find((p) => p.cluster === learner.cluster)!.cell_id;

    // Each learner's checks through either front: the same verdicts, graded by their cell.
    for (const learner of learners) {
      const viaFirst = await call<Checked>(fronts[0]!.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
      const viaSecond = await call<Checked>(fronts[1]!.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
      expect([viaFirst.status, viaSecond.status], viaFirst.body.error ?? viaSecond.body.error).toEqual([200, 200]);
      expect(viaFirst.body.result?.criteria.length).toBeGreaterThan(0);
      expect(JSON.stringify(viaSecond.body.result?.criteria)).toBe(JSON.stringify(viaFirst.body.result?.criteria));
    }

    // The terminal, opened through one front and relayed through the other, on the learner's cluster.
    for (const [learner, [openVia, relayVia]] of [
      [learners[0]!, [fronts[0]!, fronts[1]!]],
      [learners[1]!, [fronts[1]!, fronts[0]!]],
    ] as const) {
      const opened = await call<{ socketPath: string; cluster: string | null; error?: string }>(openVia.base, '/api/terminal/session', { body: { cols: 200, rows: 50 }, cookie: learner.cookie });
      expect(opened.status, opened.body.error).toBe(200);
      expect(opened.body.cluster).toBe(learner.cluster);
      const client = new TerminalClient();
      await client.connect(`ws://127.0.0.1:${relayVia.port}${opened.body.socketPath}`, { cookie: learner.cookie, origin: relayVia.base });
      expect(await client.run('kubectl get ns')).toMatch(/kube-system/);
      client.ws!.close();
    }

    // Isolation: each cell's etcd and kube-apiserver answer on its namespace's loopback only.
    for (const [n, cell] of cells.entries()) {
      const [ports] = await clusterPorts(path.join(cell.root, 'kwok'));
      expect(ports?.cluster, `cell ${cell.id} made no cluster`).toBe(learners.find((l) => l.cellId === cell.id)?.cluster);
      // Another namespace's loopback can only show a process of its own on the same port (another
      // test's cluster on the host, the other cell's if kwokctl chose the same port there).
      const notTheCells = async (ns: CellNamespace | undefined, port: number) => (await probe(ns, '127.0.0.1', port)) !== 'open' || (await listensIn(ns, port));
      for (const port of [ports!.etcd, ports!.apiserver]) {
        expect(await probe(cell.ns, '127.0.0.1', port)).toBe('open');
        expect(await notTheCells(undefined, port)).toBe(true);
        expect(await probe(undefined, cell.ns.cellAddress, port)).not.toBe('open');
        const other = cells[(n + 1) % 3]!;
        expect(await notTheCells(other.ns, port)).toBe(true);
        expect(await probe(other.ns, cell.ns.cellAddress, port)).not.toBe('open');
      }
      // While the cell itself is reachable from the host namespace at its address.
      expect(await probe(undefined, cell.ns.cellAddress, cell.port)).toBe('open');
    }
  }, 420_000);

  it('holds what arrives while it is down, applies each request once, and loses no placement', async () => {
    // The second learner's lab, on its cell since the first case.
    const [front1, front2] = fronts as [RealServer, RealServer];
    const ana = learners[1]!.cookie;
    const placementsBefore = await sql<{ cell_id: string; lost: string }>('SELECT cell_id, lost FROM placements ORDER BY cell_id');
    expect(placementsBefore).toHaveLength(3);
    const opened = await call<{ socketPath: string; error?: string }>(front2.base, '/api/terminal/session', { body: { cols: 200, rows: 50 }, cookie: ana });
    expect(opened.status, opened.body.error).toBe(200);
    const terminal = new TerminalClient();
    await terminal.connect(`ws://127.0.0.1:${front2.port}${opened.body.socketPath}`, { cookie: ana, origin: front2.base });
    expect(await terminal.run('kubectl get ns')).toMatch(/kube-system/);
    const attempt = await call<{ attempt: { id: string; questions: Array<{ id: string; options?: Array<{ id: string }> }> } }>(front1.base, '/api/quizzes/l18/attempts', { body: {}, cookie: ana });
    expect(attempt.status).toBe(200);
    const question = attempt.body.attempt.questions.find((q) => q.options?.length)!;
    const results = async () => Number((await sql<{ n: string }>("SELECT COUNT(*) AS n FROM lab_results WHERE step = 'audit-policy'"))[0]!.n);
    const resultsBefore = await results();

    await postgres('pause', pgDir);
    const pausedAt = Date.now();
    let settled = 0;
    const during = [
      call<Checked>(front1.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana }),
      call<Checked>(front2.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana }),
      call<{ error?: string }>(front2.base, '/api/labs/l18/notes', { method: 'PUT', body: 'written while the database was down', cookie: ana, headers: { 'content-type': 'text/plain' } }),
      call<{ error?: string }>(front1.base, `/api/quizzes/l18/attempts/${attempt.body.attempt.id}/answers`, { body: { questionId: question.id, answer: question.options![0]!.id }, cookie: ana }),
      call<{ error?: string }>(front2.base, '/api/me', { method: 'PUT', body: { displayName: 'During' }, cookie: ana }),
    ].map((request) => request.finally(() => settled++));
    // The outage outlasts the expiry window (and a beat of the fronts' upkeep): it is its length
    // that is under test. The requests wait for the database meanwhile.
    await until('the outage to outlast the cells\' expiry window', async () => (Date.now() - pausedAt > (EXPIRE_S + 2 * HEARTBEAT_S) * 1000 ? true : undefined), 30_000);
    expect(settled, 'a request was answered while the database was down').toBe(0);
    await postgres('resume', pgDir);
    const resumedAt = Date.now();
    const answers = await Promise.all(during);
    expect(answers.map((a) => a.status), JSON.stringify(answers.map((a) => a.body)).slice(0, 600)).toEqual([200, 200, 200, 200, 200]);

    // Each applied exactly once.
    expect(await results()).toBe(resultsBefore + 2);
    expect(await sql('SELECT question_id FROM quiz_answers WHERE attempt_id = $1', [attempt.body.attempt.id])).toEqual([{ question_id: question.id }]);
    expect((await sql<{ text: string }>('SELECT text FROM lab_notes')).map((n) => n.text)).toEqual(['written while the database was down']);
    expect((await call<{ displayName?: string }>(front1.base, '/api/me', { cookie: ana })).body.displayName).toBe('During');

    // Heartbeats resumed; then a whole expiry window (and the fronts' upkeep on every beat of it)
    // passes with nothing gone and nothing lost.
    await until('every cell heartbeating again', async () => ((await sql<{ heartbeat_at: string }>('SELECT heartbeat_at FROM cells')).every((c) => Number(c.heartbeat_at) > resumedAt) ? true : undefined), 60_000);
    const heardAt = Date.now();
    await until('an expiry window after the heartbeats resumed', async () => (Date.now() - heardAt > (EXPIRE_S + 2 * HEARTBEAT_S) * 1000 ? true : undefined), 30_000);
    expect(await sql('SELECT id, state FROM cells ORDER BY id')).toEqual(cells.map((c) => ({ id: c.id, state: 'live' })));
    expect(await sql('SELECT cell_id, lost FROM placements ORDER BY cell_id')).toEqual(placementsBefore);
    expect(placementsBefore.map((p) => p.lost)).toEqual(['0', '0', '0']);
    for (const output of [...fronts, ...cells].map((s) => s.output.join('\n'))) expect(output).not.toMatch(/given up|gave this cell up/);
    const after = await call<Checked>(front2.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(after.status, after.body.error).toBe(200);

    // Nothing exited; the terminal stayed open through it all and still answers.
    for (const server of [...fronts, ...cells]) expect(server.exit(), server.output.slice(-20).join('\n')).toBeNull();
    expect(terminal.ws!.readyState).toBe(terminal.ws!.OPEN);
    expect(await terminal.run('echo still-$((40 + 2))')).toBe('still-42\n');
    terminal.ws!.close();
  }, 240_000);

  it('runs a drill through either front on the namespaced cell it is placed on', async () => {
    // The facilitator (no learner cookie) creates it through front 1; it is placed on a cell.
    const created = await call<{ error?: string; drill: DrillView; facilitatorToken: string }>(fronts[0]!.base, '/api/drills', { body: { scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Investigator', 'Scribe'] } });
    expect(created.status, created.body.error).toBe(201);
    const { drill, facilitatorToken } = created.body;
    const bearer = { authorization: `Bearer ${facilitatorToken}` };
    const [placed] = await sql<{ cell_id: string }>("SELECT cell_id FROM placements WHERE run_kind = 'drill' AND run_id = $1", [drill.id]);
    expect(cells.map((c) => c.id)).toContain(placed?.cell_id);
    await until('the drill cluster ready', async () => {
      const view = await call<DrillView>(fronts[1]!.base, `/api/drills/${drill.id}`, { headers: bearer });
      if (view.body.cluster.status === 'failed') throw new Error(`the drill cluster failed: ${view.body.cluster.message}`);
      return view.body.cluster.status === 'ready' ? true : undefined;
    }, 240_000);

    // A participant joins through front 2, posts through front 1; the clock starts through front 2.
    const joined = await call<{ error?: string }>(fronts[1]!.base, '/api/drills/join', { body: { code: drill.code, name: 'Noor', role: 'Investigator' } });
    expect(joined.status, joined.body.error).toBe(200);
    const started = await call<{ error?: string }>(fronts[1]!.base, `/api/drills/${drill.id}/control`, { body: { action: 'start' }, headers: bearer });
    expect(started.status, started.body.error).toBe(200);
    const posted = await call<{ error?: string }>(fronts[0]!.base, `/api/drills/${drill.id}/log`, { body: { kind: 'decision', text: 'Isolate the node' }, cookie: joined.cookie });
    expect(posted.status, posted.body.error).toBe(201);
    const log = (await call<DrillView>(fronts[1]!.base, `/api/drills/${drill.id}`, { headers: bearer })).body.log.map((entry) => entry.title);
    expect(log).toEqual(expect.arrayContaining(['Noor joined', 'Drill started', 'Isolate the node']));

    // Her drill terminal, opened through front 2 and relayed through front 1, on the drill's cluster in its cell's namespace.
    const opened = await call<{ error?: string; sessionId: string }>(fronts[1]!.base, `/api/drills/${drill.id}/terminal`, { body: {}, cookie: joined.cookie });
    expect(opened.status, opened.body.error).toBe(200);
    const shell = new TerminalClient();
    await shell.connect(`ws://127.0.0.1:${fronts[0]!.port}/ws/terminal/${opened.body.sessionId}`, { cookie: joined.cookie, origin: fronts[0]!.base });
    expect(await shell.run('kubectl get ns')).toMatch(/kube-system/);
    shell.ws!.close();
    const ended = await call<{ error?: string }>(fronts[0]!.base, `/api/drills/${drill.id}/control`, { body: { action: 'end' }, headers: bearer });
    expect(ended.status, ended.body.error).toBe(200);
  }, 420_000);

  it('loses a killed cell\'s placement, starts the learner again on a live cell, and the cell reaps on its return', async () => {
    const learner = learners[0]!;
    const index = cells.findIndex((c) => c.id === learner.cellId);
    const victim = cells[index]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    // Its clusters outlive it in its namespace until it returns.
    const [orphan] = await clusterPorts(path.join(victim.root, 'kwok'));
    expect(await probe(victim.ns, '127.0.0.1', orphan!.apiserver)).toBe('open');

    await until('the placement marked lost', async () => (Number((await sql<{ lost: string }>('SELECT lost FROM placements WHERE cell_id = $1', [victim.id]))[0]?.lost) === 1 ? true : undefined), 60_000);
    for (const front of fronts) {
      const lost = await call<{ error: string; lost?: boolean }>(front.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
      expect(lost.status).toBe(503);
      expect(lost.body.error).toBe(LOST_MESSAGE);
    }
    // The others' placements are untouched.
    expect((await sql<{ cell_id: string }>("SELECT cell_id FROM placements WHERE lost = 1 AND run_kind = 'lab'")).map((p) => p.cell_id)).toEqual([victim.id]);

    const again = await call<Started>(fronts[1]!.base, '/api/labs/l18/start', { body: {}, cookie: learner.cookie });
    expect(again.status, again.body.error).toBe(200);
    const [moved] = await sql<{ cell_id: string; lost: string }>("SELECT p.cell_id, p.lost FROM placements p JOIN cells c ON c.id = p.cell_id WHERE c.state = 'live' AND p.created_at = (SELECT MAX(created_at) FROM placements)");
    expect(moved?.lost).toBe('0');
    expect(moved?.cell_id).not.toBe(victim.id);
    const checked = await call<Checked>(fronts[0]!.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
    expect(checked.status, checked.body.error).toBe(200);

    // The cell returns in its namespace on its directory: it reaps the cluster its killed process left.
    const back = await startCell(index, { root: victim.root, port: victim.port });
    cells[index] = back;
    leftRoots.push(victim.root);
    await until('the returning cell to reap', async () => (back.output.some((line) => /reaped \d+ cluster/.test(line)) ? true : undefined), 120_000);
    await until('the orphaned kube-apiserver gone', async () => ((await probe(victim.ns, '127.0.0.1', orphan!.apiserver)) !== 'open' ? true : undefined), 60_000);
  }, 300_000);
});
