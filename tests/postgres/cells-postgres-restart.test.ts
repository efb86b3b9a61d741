// Issue 21's third failure case at fronts-and-cells scale: 2 fronts and 3 cells (each in a network
// namespace of its own, cell-namespaces.ts) on a PostgreSQL of this test's own (scripts/postgres.sh,
// so stopping it disturbs no other test file). With a learner's lab and terminal going through the
// fronts, PostgreSQL stops for longer than the cells' expiry window; requests fired through both
// fronts meanwhile (two checks, notes, a quiz answer, a rename) wait for it and each is applied
// exactly once when it is back; no front or cell exits; the cells' heartbeats resume, and the
// outage makes no cell gone and no placement lost (a cell silent while nobody could hear it was
// not judged: registry.ts); the terminal stayed open and still echoes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineChecked, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { makeCellNamespaces, postgresForwarder, startNamespacedCell, type CellNamespaces, type Forwarder, type NamespacedCell } from './cell-namespaces.ts';
import { call, query, TerminalClient, until } from './lab-client.ts';

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
const sql = <T>(text: string, params: unknown[] = []) => query<T>(databaseUrl, text, params);

beforeAll(async () => {
  pgDir = await mkdtemp(path.join(tmpdir(), 'irlab-cells-pg-restart-'));
  databaseUrl = await postgres('start', pgDir);
  const shared = { IRLAB_CELL_FORWARD_KEY: randomBytes(48).toString('base64'), IRLAB_CELL_HEARTBEAT_SECONDS: String(HEARTBEAT_S), IRLAB_CELL_EXPIRE_SECONDS: String(EXPIRE_S) };
  spaces = await makeCellNamespaces(3);
  for (const [n, ns] of spaces.namespaces.entries()) {
    forwarders.push(await postgresForwarder(databaseUrl, ns.hostAddress));
    cells.push(await startNamespacedCell(ns, `cell-${n + 1}`, { ...shared, IRLAB_DATABASE_URL: forwarders[n]!.url, IRLAB_CELL_CAPACITY: '4' }));
  }
  for (let i = 0; i < 2; i++) fronts.push(await startRealServer({ ...shared, IRLAB_DATABASE_URL: databaseUrl, IRLAB_ROLE: 'front' }));
  await until('three cells live in the registry', async () => ((await sql<{ id: string }>("SELECT id FROM cells WHERE state = 'live'")).length === 3 ? true : undefined));
  for (const cell of cells) await engineChecked(cell);
}, 300_000);

afterAll(async () => {
  // The database may be paused by a failed test: back, so the cells can leave the registry.
  if (pgDir) await postgres('resume', pgDir).catch(() => undefined);
  for (const server of [...fronts, ...cells]) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
  for (const forwarder of forwarders) await forwarder.close();
  await spaces?.teardown();
  if (pgDir) await postgres('stop', pgDir);
}, 180_000);

type Checked = { error?: string; result?: { criteria: unknown[] } };

describe('two fronts and three cells whose PostgreSQL restarts', () => {
  it('holds what arrives while it is down, applies each request once, and loses no placement', async () => {
    const [front1, front2] = fronts as [RealServer, RealServer];
    const started = await call<{ error?: string; run?: { cluster: string } }>(front1.base, '/api/labs/l18/start', { body: {} });
    expect(started.status, started.body.error).toBe(200);
    const ana = started.cookie;
    const [placement] = await sql<{ cell_id: string }>('SELECT cell_id FROM placements');
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
    expect(await sql('SELECT cell_id, lost FROM placements')).toEqual([{ cell_id: placement!.cell_id, lost: '0' }]);
    for (const output of [...fronts, ...cells].map((s) => s.output.join('\n'))) expect(output).not.toMatch(/given up|gave this cell up/);
    const after = await call<Checked>(front2.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(after.status, after.body.error).toBe(200);

    // Nothing exited; the terminal stayed open through it all and still answers.
    for (const server of [...fronts, ...cells]) expect(server.exit(), server.output.slice(-20).join('\n')).toBeNull();
    expect(terminal.ws!.readyState).toBe(terminal.ws!.OPEN);
    expect(await terminal.run('echo still-$((40 + 2))')).toBe('still-42\n');
    terminal.ws!.close();
  }, 300_000);
});
