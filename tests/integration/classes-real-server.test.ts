// Classes through the real server process (serve.ts over the built site) and one real L18 start:
// an instructor creates a class and assigns L18; two learners join by code; the dashboard (JSON,
// polled with an ETag) shows both, flags the one whose failing check outlasts the class's stuck
// threshold (set in seconds, so no real wait), the CSV carries the same figures, and the instructor
// watches that learner's terminal read-only while the learner's page says they are watched.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { processesUnder } from '../../src/server/cluster/host-census.ts';
import { dashboardRows } from '../../src/lib/class-csv.ts';
import type { ClassNotices, DashboardView } from '../../src/lib/class-view.ts';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

let server: RealServer;
const kwokWork = () => path.join(path.dirname(server.dataDir), 'kwok');
const sockets: WebSocket[] = [];

async function call<T>(target: string, init: { method?: string; body?: unknown; cookie?: string; bearer?: boolean; etag?: string } = {}): Promise<{ status: number; body: T; headers: Headers; cookie: string }> {
  const response = await fetch(`${server.base}${target}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...(init.bearer ? { authorization: `Bearer ${server.instructorToken}` } : {}),
      ...(init.etag ? { 'if-none-match': init.etag } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(240_000),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: (type.includes('json') && text ? JSON.parse(text) : text) as T, headers: response.headers, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

/** Polls until `accept` holds (the machine is loaded: generous, and no fixed sleeps). */
async function until<T>(what: string, read: () => Promise<T>, accept: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A WebSocket client of the terminal protocol: everything printed, as text. */
function terminalSocket(socketPath: string, cookie: string): Promise<{ ws: WebSocket; output: () => string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${socketPath}`, { headers: { cookie } });
  sockets.push(ws);
  let printed = '';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) printed += data.subarray(5).toString('utf8');
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ t: 'hello', v: 1, clientId: `it-${Math.random().toString(36).slice(2)}`, lastOutputSeq: 0, cols: 100, rows: 30 }));
      resolve({ ws, output: () => printed });
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`the upgrade was refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

let ana = '';
let bob = '';

beforeAll(async () => {
  server = await startRealServer();
}, 90_000);

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  if (!server) return;
  if (ana) await call('/api/labs/l18/reset', { body: {}, cookie: ana }).catch(() => undefined);
  await server.stop();
  expect(processesUnder(kwokWork()).map((p) => p.command)).toEqual([]);
}, 120_000);

describe('a class through the real server', () => {
  it('two learners join by code; the dashboard shows both live, flags the stuck one, and equals the CSV; the instructor watches read-only', async () => {
    // Only an instructor runs classes.
    expect((await call('/api/classes', { body: { name: 'Group A' } })).status).toBe(401);
    const created = await call<{ id: string; joinCode: string }>('/api/classes', { body: { name: 'Group A' }, bearer: true });
    expect(created.status).toBe(201);
    const { id, joinCode } = created.body;
    expect((await call(`/api/classes/${id}`, { body: { action: 'assign', kind: 'lab', slug: 'l18', dueAt: '2026-12-31T17:00:00Z' }, bearer: true })).status).toBe(200);
    expect((await call(`/api/classes/${id}`, { body: { action: 'assign', kind: 'quiz', slug: 'l18' }, bearer: true })).status).toBe(200);
    expect((await call(`/api/classes/${id}`, { body: { action: 'assign', kind: 'lab', slug: 'no-such-lab' }, bearer: true })).status).toBe(400);

    // Two learners without accounts: a name and the code (typed in lower case, with a space).
    const joinA = await call<{ classId: string; rejoinKey: string }>('/api/classes/join', { body: { code: joinCode.toLowerCase().replace('-', ' '), name: 'Ana' } });
    expect(joinA.status).toBe(200);
    expect(joinA.body.classId).toBe(id);
    ana = joinA.cookie;
    const joinB = await call('/api/classes/join', { body: { code: joinCode, name: 'Bob' } });
    bob = joinB.cookie;
    expect(ana && bob && ana !== bob).toBeTruthy();
    expect((await call('/api/classes/join', { body: { code: joinCode, name: 'ana' } })).status).toBe(409);

    const dashboard = () => call<DashboardView>(`/api/classes/${id}/dashboard`, { bearer: true });
    const first = await dashboard();
    expect(first.body.learners.map((l) => l.name)).toEqual(['Ana', 'Bob']);
    // Nothing changed: the same ETag, and a conditional poll is a 304.
    expect((await call(`/api/classes/${id}/dashboard`, { bearer: true, etag: first.headers.get('etag')! })).status).toBe(304);

    // Ana starts L18 for real and checks the first step before doing it: failing.
    const started = await call<{ error?: string }>('/api/labs/l18/start', { body: {}, cookie: ana });
    expect(started.status, started.body.error).toBe(200);
    const checked = await call<{ error?: string }>('/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checked.status, checked.body.error).toBe(200);
    const failing = await dashboard();
    expect(failing.headers.get('etag')).not.toBe(first.headers.get('etag'));
    const anaRow = () => failing.body.learners.find((l) => l.name === 'Ana')!;
    expect(anaRow().labs[0]!.steps[0]).toMatchObject({ step: 'audit-policy', status: 'failing', checks: 1 });
    expect(anaRow().stuck).toBeNull(); // the default threshold is ten minutes

    // The threshold in seconds: past it, Ana is flagged, Bob (not started) is not.
    expect((await call(`/api/classes/${id}`, { body: { action: 'stuck', seconds: 1 }, bearer: true })).status).toBe(200);
    const stuck = await until('Ana flagged as stuck', dashboard, (d) => d.body.learners.some((l) => l.stuck));
    expect(stuck.body.learners.map((l) => [l.name, l.stuck?.step ?? null])).toEqual([['Ana', 'audit-policy'], ['Bob', null]]);

    // The CSV equals the dashboard, figure for figure (read right after, within the same minute or retried).
    const csvMatches = async () => {
      const [view, csv] = [await dashboard(), await call<string>(`/api/classes/${id}/dashboard.csv`, { bearer: true })];
      const expected = ['learner,kind,activity,step,status,score_percent,minutes,hints,checks,stuck', ...dashboardRows(view.body).map((r) => r.map((c) => (c === null ? '' : String(c))).join(','))];
      return { expected, got: csv.body.trimEnd().split('\r\n'), type: csv.headers.get('content-type') };
    };
    const compared = await until('the CSV to match the dashboard', csvMatches, (c) => JSON.stringify(c.expected) === JSON.stringify(c.got));
    expect(compared.type).toMatch(/^text\/csv/);
    expect(compared.got.length).toBe(1 + 2 * (6 + 1)); // header, then per learner 6 L18 steps and the quiz

    // Ana opens her lab terminal; the instructor (with a learner cookie of their own) watches it.
    const session = await call<{ sessionId: string; socketPath: string; error?: string }>('/api/terminal/session', { body: { cols: 100, rows: 30 }, cookie: ana });
    expect(session.status, session.body.error).toBe(200);
    const learnerTerm = await terminalSocket(session.body.socketPath, ana);
    const watchable = await until('Ana watchable', dashboard, (d) => d.body.learners.find((l) => l.name === 'Ana')!.watchable);
    expect(watchable.body.learners.find((l) => l.name === 'Bob')!.watchable).toBe(false);
    const instructorPage = await call<string>('/instructor/classes', { bearer: true });
    const instructorCookie = `${instructorPage.cookie}; irlab_instructor=${server.instructorToken}`;
    // Bob (a learner, not an instructor) may not watch Ana.
    await expect(terminalSocket(`${session.body.socketPath}?watch=1`, bob)).rejects.toThrow(/403/);
    const watch = await call<{ socketPath: string }>(`/api/classes/${id}/watch?learner=${encodeURIComponent(anaRow().id)}`, { cookie: instructorCookie });
    expect(watch.status).toBe(200);
    const watcher = await terminalSocket(watch.body.socketPath, instructorCookie);
    await until('Ana told she is watched', async () => (await call<ClassNotices>('/api/classes/notices', { cookie: ana })).body.watched, (w) => w);
    expect((await call<ClassNotices>('/api/classes/notices', { cookie: bob })).body.watched).toBe(false);
    learnerTerm.ws.send(JSON.stringify({ t: 'input', seq: 1, data: 'echo typed-by-""ana\r' }));
    await until('the instructor to see what Ana typed', async () => watcher.output(), (out) => out.includes('typed-by-ana'), 30_000);
    // The watcher's input is ignored.
    watcher.ws.send(JSON.stringify({ t: 'input', seq: 1, data: 'echo from-""watcher\r' }));
    learnerTerm.ws.send(JSON.stringify({ t: 'input', seq: 2, data: 'echo after-""watch\r' }));
    await until('Ana`s next line', async () => learnerTerm.output(), (out) => out.includes('after-watch'), 30_000);
    expect(learnerTerm.output()).not.toContain('from-watcher');

    // A message to Ana reaches her, as text, and goes once dismissed.
    expect((await call(`/api/classes/${id}`, { body: { action: 'message', learner: anaRow().id, text: '<b>look at step 1</b>' }, bearer: true })).status).toBe(201);
    const notices = (await call<ClassNotices>('/api/classes/notices', { cookie: ana })).body.notices;
    expect(notices.map((n) => n.text)).toEqual(['<b>look at step 1</b>']);
    expect((await call<ClassNotices>('/api/classes/notices', { body: { dismiss: notices[0]!.id }, cookie: ana })).body.notices).toEqual([]);
    expect((await call<ClassNotices>('/api/classes/notices', { cookie: bob })).body.notices).toEqual([]);
  }, 420_000);
});
