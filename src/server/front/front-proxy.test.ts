// The front's routing of drills (drill-front.ts through front-proxy.ts): two cells are HTTP and
// WebSocket servers on loopback that verify the front's signed header and record what reached
// them; the registry is the real one on the test store.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { NO_LEARNER, watcherOf } from '../cells/cluster-routes.ts';
import { FORWARD_HEADER, forwardSigner, forwardVerifier } from '../cells/forward-auth.ts';
import { cellRegistry } from '../cells/registry.ts';
import type { Identify } from '../http/terminal-routes.ts';
import { safeWebSocketServer } from '../http/ws-safety.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { LOST_DRILL, type DrillLookup } from './drill-front.ts';
import { frontProxy, LOST_MESSAGE } from './front-proxy.ts';

const KEY = 'k'.repeat(48);
const open = openedPerTest();
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const listen = async (server: Server): Promise<number> => {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

interface Seen {
  method: string;
  path: string;
  learnerId: string | undefined;
  cookie: string | undefined;
  authorization: string | undefined;
  body: string;
}

/** A cell: answers `status` to HTTP, accepts WebSockets, records each request with the learner its header names. */
async function cell(id: string, status: () => number) {
  const verifier = forwardVerifier({ key: KEY, cellId: id });
  const seen: Seen[] = [];
  const record = (req: IncomingMessage, body: string) => {
    const verdict = verifier.verify(req.headers[FORWARD_HEADER], { method: req.method ?? 'GET', path: req.url ?? '/' });
    seen.push({ method: req.method ?? '', path: req.url ?? '', learnerId: verdict.ok ? verdict.learnerId : undefined, cookie: req.headers.cookie, authorization: req.headers.authorization, body });
    return verdict.ok;
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const ok = record(req, body);
      res.writeHead(ok ? status() : 403, { 'content-type': 'application/json' }).end(JSON.stringify({ cell: id }));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!record(req, '')) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello from ${id}`));
  });
  const port = await listen(server);
  return { id, url: `http://127.0.0.1:${port}`, seen };
}

async function setUp(backend: TestBackend, cellStatus = () => 201) {
  const store = await open(backend);
  const registry = cellRegistry({ store });
  const cells = [await cell('cell-a', cellStatus), await cell('cell-b', cellStatus)];
  for (const c of cells) await registry.register({ id: c.id, url: c.url, capacity: 1 });
  const drills = new Map<string, { code: string; state: string; sessions: string[] }>();
  const lostCalls: string[] = [];
  let next = 0;
  const lookup: DrillLookup = {
    newId: () => `drl_${String(++next).padStart(12, '0')}`,
    byCode: async (code) => [...drills.entries()].find(([, d]) => d.code === code)?.[0],
    ofTerminalSession: async (sessionId) => [...drills.entries()].find(([, d]) => d.sessions.includes(sessionId))?.[0],
    stateOf: async (drillId) => drills.get(drillId)?.state,
    cellLost: async (drillId) => void lostCalls.push(drillId),
  };
  let made = 0;
  // The learner is the `who` cookie's; a join makes one.
  const identify = (async (req: IncomingMessage, options: { create: boolean }) => {
    const who = /who=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (who) return { id: who };
    return options.create ? { id: `lrn_new${++made}`, setCookie: `who=lrn_new${made}` } : undefined;
  }) as Identify;
  // The instructor holds the bearer `inst`; class cls_1 has lrn_ana and lrn_cy, class cls_2 lrn_bo.
  const members: Record<string, string[]> = { cls_1: ['lrn_ana', 'lrn_cy'], cls_2: ['lrn_bo'] };
  const mayWatch = async (req: IncomingMessage, learnerId: string, classId?: string) =>
    req.headers.authorization === 'Bearer inst' && Object.entries(members).some(([id, ids]) => ids.includes(learnerId) && (classId === undefined || classId === id));
  const proxy = frontProxy({ registry, signer: forwardSigner({ key: KEY }), identify, wss: safeWebSocketServer(64 * 1024), drills: lookup, mayWatch });
  const front = createServer((req, res) => {
    // What the front's own endpoints would get: a body the proxy read already is `req.body`.
    void proxy.handle(req, res).then((handled) => {
      const read = (req as IncomingMessage & { body?: Buffer }).body;
      if (!handled) res.writeHead(200).end(`served by the front${read ? ` with ${read.toString()}` : ''}`);
    });
  });
  front.on('upgrade', (req, socket, head) => {
    if (!proxy.upgrade(req, socket, head)) socket.destroy();
  });
  const base = `http://127.0.0.1:${await listen(front)}`;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { error?: string; cell?: string }, setCookie: response.headers.get('set-cookie') };
  };
  return { registry, cells, drills, lostCalls, base, post };
}

const LAB_QUERY = { source: 'lab', query: 'verb = "get"' };

describe.each(testStores())('a front routes drills to their cell on $name', (backend: TestBackend) => {
  it('places a new drill under an id it draws, sends its changes and join to that cell, keeps reads, and gives back a refused creation\'s slot', async () => {
    let status = 201;
    const { registry, cells, drills, base, post } = await setUp(backend, () => status);
    // The facilitator has no learner session; the browser's own header and query are not passed on.
    const created = await post('/api/drills?drill=drl_chosenbyme0', { scenario: 's' }, { [FORWARD_HEADER]: 'v1.forged', authorization: 'Bearer tok' });
    expect(created.status).toBe(201);
    const placement = await registry.placementOf('drl_000000000001', 'drill');
    expect(placement).toMatchObject({ cellId: created.body.cell, learnerId: NO_LEARNER, lost: false });
    const home = cells.find((c) => c.id === placement!.cellId)!;
    expect(home.seen).toEqual([{ method: 'POST', path: '/api/drills?drill=drl_000000000001', learnerId: NO_LEARNER, cookie: undefined, authorization: 'Bearer tok', body: '{"scenario":"s"}' }]);
    drills.set('drl_000000000001', { code: 'ABC234', state: 'lobby', sessions: ['term-9'] });

    // A participant joins by code (the front makes her session), then posts: both on the drill's cell.
    const joined = await post('/api/drills/join', { code: ' abc234 ', name: 'Ana', role: 'r' });
    expect(joined).toMatchObject({ status: 201, body: { cell: home.id } });
    expect(joined.setCookie).toBe('who=lrn_new1');
    expect(home.seen.at(-1)).toMatchObject({ path: '/api/drills/join', learnerId: 'lrn_new1', body: '{"code":" abc234 ","name":"Ana","role":"r"}' });
    expect((await post('/api/drills/join', { code: 'NOPE22' })).status).toBe(404);
    for (const action of ['log', 'control', 'injects', 'answers', 'terminal', 'expectations/e1']) {
      const answer = await post(`/api/drills/drl_000000000001/${action}`, {}, { cookie: 'who=lrn_new1; other=1' });
      expect(answer.body.cell, action).toBe(home.id);
      expect(home.seen.at(-1)).toMatchObject({ path: `/api/drills/drl_000000000001/${action}`, learnerId: 'lrn_new1', cookie: undefined });
    }
    // Reads are the front's own.
    expect(await (await fetch(`${base}/api/drills/drl_000000000001`)).text()).toBe('served by the front');
    // Unknown and ended drills are answered by the front.
    expect((await post('/api/drills/drl_unknown0000/log', {})).status).toBe(404);
    drills.set('drl_ended000000', { code: 'XYZ234', state: 'ended', sessions: [] });
    expect((await post('/api/drills/drl_ended000000/log', {})).status).toBe(409);

    // A creation the cell refuses gives its slot back.
    status = 400;
    expect((await post('/api/drills', { scenario: 'nope' })).status).toBe(400);
    expect(await registry.placementOf('drl_000000000002', 'drill')).toBeUndefined();
    expect((await registry.cells()).reduce((n, c) => n + c.used, 0)).toBe(1);
  });

  it('relays the drill feed and a drill participant\'s terminal to the drill\'s cell, not the learner\'s own; a lost cell answers 503 and ends the drill', async () => {
    const { registry, cells, drills, lostCalls, base, post } = await setUp(backend);
    await post('/api/drills', {});
    const drillCell = (await registry.placementOf('drl_000000000001', 'drill'))!.cellId;
    // The participant's own lab is on the other cell (capacity 1 each).
    const lab = await registry.place('lrn_ana', 'lrn_ana', 'lab');
    expect(lab.cellId).not.toBe(drillCell);
    drills.set('drl_000000000001', { code: 'ABC234', state: 'running', sessions: ['term-9'] });
    const ws = `ws://${new URL(base).host}`;
    const greeting = (path: string, headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(`${ws}${path}`, { headers });
        socket.once('message', (data: Buffer) => (resolve(data.toString()), socket.close()));
        socket.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
        socket.once('error', reject);
      });
    expect(await greeting('/ws/drills/drl_000000000001', { origin: base })).toBe(`hello from ${drillCell}`);
    expect(cells.find((c) => c.id === drillCell)!.seen.at(-1)).toMatchObject({ path: '/ws/drills/drl_000000000001', learnerId: NO_LEARNER });
    // Her drill shell (or one she watches) is on the drill's cell; her own shell on her lab's.
    expect(await greeting('/ws/terminal/term-9?watch=1', { origin: base, cookie: 'who=lrn_ana' })).toBe(`hello from ${drillCell}`);
    expect(await greeting('/ws/terminal/term-1', { origin: base, cookie: 'who=lrn_ana' })).toBe(`hello from ${lab.cellId}`);
    await expect(greeting('/ws/drills/drl_000000000001', { origin: 'https://elsewhere.example' })).rejects.toThrow(/403/);

    // The drill's cell is lost.
    await registry.leave(drillCell);
    const lost = await post('/api/drills/drl_000000000001/log', { kind: 'note', text: 'x' }, { cookie: 'who=lrn_ana' });
    expect(lost).toMatchObject({ status: 503, body: { error: LOST_DRILL } });
    await expect(greeting('/ws/drills/drl_000000000001', { origin: base })).rejects.toThrow(/410/);
    expect(lostCalls).toEqual(['drl_000000000001', 'drl_000000000001']);
  });

  it('sends a query of the learner\'s lab or of a drill to the cell that holds that cluster, and keeps every other for itself, body in hand', async () => {
    const { registry, cells, drills, base, post } = await setUp(backend);
    const lab = await registry.place('lrn_ana', 'lrn_ana', 'lab');
    const labCell = cells.find((c) => c.id === lab.cellId)!;
    const sent = await post('/api/query', LAB_QUERY, { cookie: 'who=lrn_ana', [FORWARD_HEADER]: 'v1.forged' });
    expect(sent.body.cell).toBe(lab.cellId);
    expect(labCell.seen.at(-1)).toEqual({ method: 'POST', path: '/api/query', learnerId: 'lrn_ana', cookie: undefined, authorization: undefined, body: JSON.stringify(LAB_QUERY) });

    // The server's own file, a learner with no lab placed, no learner, a body that is no JSON object: the front's endpoint.
    const front = async (body: string, cookie?: string) => (await fetch(`${base}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body })).text();
    for (const [body, cookie] of [[JSON.stringify({ source: 'file', query: 'x' }), 'who=lrn_ana'], [JSON.stringify(LAB_QUERY), 'who=lrn_bo'], [JSON.stringify(LAB_QUERY), undefined], ['{"source": ', 'who=lrn_ana'], ['null', 'who=lrn_ana']] as const) {
      expect(await front(body, cookie)).toBe(`served by the front with ${body}`);
    }
    expect(labCell.seen).toHaveLength(1);

    // A drill's audit log: on the drill's cell, as the participant.
    await post('/api/drills', {});
    const drillCell = (await registry.placementOf('drl_000000000001', 'drill'))!.cellId;
    expect(drillCell).not.toBe(lab.cellId);
    drills.set('drl_000000000001', { code: 'ABC234', state: 'running', sessions: [] });
    const drillQuery = { source: 'drill:drl_000000000001', query: 'verb = "get"' };
    expect((await post('/api/query', drillQuery, { cookie: 'who=lrn_ana' })).body.cell).toBe(drillCell);
    expect(cells.find((c) => c.id === drillCell)!.seen.at(-1)).toMatchObject({ path: '/api/query', learnerId: 'lrn_ana', body: JSON.stringify(drillQuery) });

    // Her lab's cell is lost: a 503 in the query panel's shape, saying what to do.
    await registry.leave(lab.cellId);
    const lost = await fetch(`${base}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: 'who=lrn_ana' }, body: JSON.stringify(LAB_QUERY) });
    expect(lost.status).toBe(503);
    expect(await lost.json()).toEqual({ ok: false, error: { message: LOST_MESSAGE }, lost: true });
  });

  it('routes an instructor\'s watch of a learner (endpoint and socket) to the learner\'s cell, signed as her watcher; anyone else\'s stays on the front', async () => {
    const { registry, cells, base } = await setUp(backend);
    const lab = await registry.place('lrn_ana', 'lrn_ana', 'lab');
    // The instructor's own learner session is placed on the other cell (capacity 1 each).
    const own = await registry.place('lrn_teacher', 'lrn_teacher', 'lab');
    expect(own.cellId).not.toBe(lab.cellId);
    const labCell = cells.find((c) => c.id === lab.cellId)!;
    const get = async (path: string, headers: Record<string, string>) => (await fetch(`${base}${path}`, { headers })).text();
    const instructor = { authorization: 'Bearer inst', cookie: 'who=lrn_teacher' };
    const endpoint = '/api/classes/cls_1/watch?learner=lrn_ana';
    expect(await get(endpoint, instructor)).toBe(JSON.stringify({ cell: lab.cellId }));
    expect(labCell.seen.at(-1)).toEqual({ method: 'GET', path: endpoint, learnerId: watcherOf('lrn_ana'), cookie: undefined, authorization: 'Bearer inst', body: '' });
    // Not an instructor, another class, a learner of another class, no learner, no placement: the front's own endpoint answers.
    for (const [path, headers] of [
      [endpoint, { cookie: 'who=lrn_bo' }],
      ['/api/classes/cls_2/watch?learner=lrn_ana', instructor],
      ['/api/classes/cls_1/watch?learner=lrn_bo', instructor],
      ['/api/classes/cls_1/watch', instructor],
      ['/api/classes/cls_1/watch?learner=lrn_cy', instructor],
    ] as const) expect(await get(path, headers), path).toBe('served by the front');
    expect(labCell.seen).toHaveLength(1);

    const greeting = (path: string, headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(`ws://${new URL(base).host}${path}`, { headers: { origin: base, ...headers } });
        socket.once('message', (data: Buffer) => (resolve(data.toString()), socket.close()));
        socket.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
        socket.once('error', reject);
      });
    // The socket goes to her cell, not the instructor's own, signed for exactly this path.
    const socketPath = '/ws/terminal/term-1?watch=1&learner=lrn_ana';
    expect(await greeting(socketPath, instructor)).toBe(`hello from ${lab.cellId}`);
    expect(labCell.seen.at(-1)).toMatchObject({ path: socketPath, learnerId: watcherOf('lrn_ana'), cookie: undefined });
    // A learner naming another learner is routed as herself, by her own placement (lrn_bo has none): never as a watcher.
    await expect(greeting(socketPath, { cookie: 'who=lrn_bo' })).rejects.toThrow(/404/);
    expect(await greeting(socketPath, { cookie: 'who=lrn_teacher' })).toBe(`hello from ${own.cellId}`);
    expect(cells.find((c) => c.id === own.cellId)!.seen.at(-1)).toMatchObject({ path: socketPath, learnerId: 'lrn_teacher' });
    // Her cell lost: the watch is gone.
    await registry.leave(lab.cellId);
    await expect(greeting(socketPath, instructor)).rejects.toThrow(/410/);
  });
});
