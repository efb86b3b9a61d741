// The drill WebSocket over a real HTTP server and a real `ws` client: participants by cookie,
// the facilitator by an auth frame, snapshot then entries in seq order, missed entries after a
// reconnect, outsiders refused, and never an upcoming inject or the token for a participant.
// The cluster side is a scripted DrillRuntime (no cluster needed for the protocol).
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DrillServerMessage } from '../../lib/drill-view.ts';
import { loadDrills } from '../drill/project-drills.ts';
import type { DrillRuntime } from '../drill/runtime.ts';
import { drillService, type DrillEvent, type DrillService, type DrillTerminals } from '../drill/service.ts';
import { learnerService, SESSION_COOKIE } from '../learners/learners.ts';
import { allMigrations, openSqliteStore } from '../store/index.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { createDrillRoutes } from './drill-routes.ts';
import { readCookie, type Identify } from './terminal-routes.ts';

const runtime: DrillRuntime = {
  prepare: async () => 'drill-cluster-ws',
  exists: async () => true,
  values: async () => ({ compromisedPodIp: '10.244.0.9' }),
  evaluate: async () => ({ passed: false, score: 0, criteria: [] }),
  attack: async () => [],
  participantKubeconfig: async () => '/dev/null',
  auditEvents: async () => [],
  auditLogPath: async () => '/dev/null',
  answerKey: async () => Promise.reject(new Error('none')),
  release: async () => {},
};

let work: string;
let store: SqlStore;
let service: DrillService;
let server: http.Server;
let base: string;
let drill: { id: string; code: string };
let token: string;
let aliceCookie: string;
let outsiderCookie: string;
let http_: string;
let lockedDrill: { id: string; token: string };
const opened: string[] = [];
let reorder: ((event: DrillEvent, listener: (event: DrillEvent) => void) => void) | null = null;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-drill-ws-'));
  store = await openSqliteStore(path.join(work, 'irlab.db'), allMigrations);
  const drills = await loadDrills(process.cwd());
  // The terminal manager's side is a double that records opens: the lock is the service's and the route's.
  const terminals: DrillTerminals = {
    open: async (owner) => {
      opened.push(owner);
      return { id: `term-${opened.length}`, createdAt: 0 };
    },
    closeGroup: async () => {},
    recordingPath: () => '/dev/null',
    workspaceDir: () => '/nonexistent',
  };
  service = drillService({ store, drills: async () => drills, runtime, terminals });
  const learners = learnerService({ store });
  const identify = (async (req) => {
    const found = await learners.fromSession(readCookie(req.headers.cookie, SESSION_COOKIE));
    return found ? { id: found.id } : undefined;
  }) as Identify;
  // The feed sees the service's events through `reorder`, which a test sets to deliver one
  // entry's announcement after the next one's (appends commit concurrently on the async store).
  const feed: DrillService = {
    ...service,
    subscribe: (id, listener) => service.subscribe(id, (event) => (reorder ? reorder(event, listener) : listener(event))),
  };
  const routes = createDrillRoutes(feed, identify);
  server = http.createServer((req, res) => routes.handle(req, res) || res.end());
  server.on('upgrade', (req, socket, head) => routes.upgrade(req, socket, head) || socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  http_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const created = await service.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Scribe'] });
  await service.prepared(created.drill.id);
  drill = created.drill;
  token = created.facilitatorToken;
  const alice = await learners.create();
  aliceCookie = `${SESSION_COOKIE}=${alice.token}`;
  outsiderCookie = `${SESSION_COOKIE}=${(await learners.create()).token}`;
  await service.join(drill.code, alice.learner.id, 'Alice', 'Scribe');
  const locked = await service.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Scribe'] });
  await service.prepared(locked.drill.id);
  await service.join(locked.drill.code, alice.learner.id, 'Alice', 'Scribe');
  lockedDrill = { id: locked.drill.id, token: locked.facilitatorToken };
});

afterAll(async () => {
  server?.close();
  await store?.close();
  await rm(work, { recursive: true, force: true });
});

/** Opens the feed and collects messages; `until` resolves once a predicate holds. */
function connect(headers: Record<string, string>, first: object[]) {
  const ws = new WebSocket(`${base}/ws/drills/${drill.id}`, { headers });
  const messages: DrillServerMessage[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('open', () => first.forEach((m) => ws.send(JSON.stringify(m))));
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as DrillServerMessage));
  const until = async (test: (m: DrillServerMessage[]) => boolean) => {
    for (let i = 0; i < 200 && !test(messages); i++) await new Promise((r) => setTimeout(r, 10));
    expect(test(messages), JSON.stringify(messages).slice(0, 500)).toBe(true);
  };
  return { ws, messages, closed, until };
}

describe('/ws/drills/:id', () => {
  it('gives a participant the snapshot, then live entries in seq order, without facilitator-only data', async () => {
    const alice = connect({ cookie: aliceCookie }, [{ type: 'hello', afterSeq: 0 }]);
    await alice.until((m) => m.some((x) => x.type === 'snapshot'));
    const snapshot = alice.messages.find((m) => m.type === 'snapshot')!;
    expect(snapshot.type === 'snapshot' && snapshot.drill.you?.name).toBe('Alice');
    const text = JSON.stringify(alice.messages);
    expect(text).not.toContain('upcomingInjects');
    expect(text).not.toContain(token);
    const last = snapshot.type === 'snapshot' ? snapshot.drill.log.at(-1)!.seq : 0;

    await service.post(drill.id, { facilitatorToken: token }, 'note', 'first');
    await service.post(drill.id, { facilitatorToken: token }, 'note', 'second');
    await alice.until((m) => m.filter((x) => x.type === 'entry').length >= last + 2);
    const seqs = alice.messages.flatMap((m) => (m.type === 'entry' ? [m.entry.seq] : []));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    alice.ws.close();
  });

  it('sends entries in seq order, each once, when their announcements arrive out of order', async () => {
    const alice = connect({ cookie: aliceCookie }, [{ type: 'hello', afterSeq: 0 }]);
    await alice.until((m) => m.some((x) => x.type === 'snapshot'));
    let held: { event: DrillEvent; listener: (event: DrillEvent) => void } | null = null;
    reorder = (event, listener) => {
      if (event.type !== 'entry') return listener(event);
      if (!held) return void (held = { event, listener });
      listener(event);
      held.listener(held.event);
      reorder = null;
    };
    try {
      await service.post(drill.id, { facilitatorToken: token }, 'note', 'announced late');
      await service.post(drill.id, { facilitatorToken: token }, 'note', 'announced first');
    } finally {
      reorder = null;
    }
    await alice.until((m) => m.some((x) => x.type === 'entry' && x.entry.title === 'announced late'));
    const entries = alice.messages.flatMap((m) => (m.type === 'entry' ? [m.entry] : []));
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.slice(-2).map((e) => e.title)).toEqual(['announced late', 'announced first']);
    alice.ws.close();
  });

  it('sends a reconnecting client what it missed after its last seq', async () => {
    const before = (await service.view(drill.id, { facilitatorToken: token })).log.at(-1)!.seq;
    await service.post(drill.id, { facilitatorToken: token }, 'decision', 'while you were away');
    const again = connect({ cookie: aliceCookie }, [{ type: 'hello', afterSeq: before }]);
    await again.until((m) => m.some((x) => x.type === 'entry'));
    const entries = again.messages.filter((m) => m.type === 'entry');
    expect(entries.map((m) => m.type === 'entry' && m.entry.title)).toEqual(['while you were away']);
    again.ws.close();
  });

  it('lets the facilitator in with an auth frame, and shows them upcoming injects', async () => {
    const facilitator = connect({}, [{ type: 'auth', token }, { type: 'hello', afterSeq: 0 }]);
    await facilitator.until((m) => m.some((x) => x.type === 'snapshot'));
    const snapshot = facilitator.messages.find((m) => m.type === 'snapshot');
    expect(snapshot?.type === 'snapshot' && snapshot.drill.facilitator).toBe(true);
    expect(snapshot?.type === 'snapshot' && snapshot.drill.upcomingInjects?.length).toBeGreaterThan(0);
    await service.control(drill.id, { facilitatorToken: token }, 'start');
    await facilitator.until((m) => m.some((x) => x.type === 'state' && x.drill.state === 'running'));
    facilitator.ws.close();
  });

  it('refuses outsiders, wrong tokens and cross-site pages', async () => {
    const outsider = connect({ cookie: outsiderCookie }, [{ type: 'hello', afterSeq: 0 }]);
    expect(await outsider.closed).toBe(4403);
    expect(outsider.messages.every((m) => m.type === 'error')).toBe(true);
    const forger = connect({}, [{ type: 'auth', token: 'not-the-token' }, { type: 'hello', afterSeq: 0 }]);
    expect(await forger.closed).toBe(4403);
    const crossSite = connect({ cookie: aliceCookie, origin: 'https://evil.example' }, []);
    await expect(new Promise((resolve, reject) => { crossSite.ws.on('error', reject); crossSite.ws.on('open', resolve); })).rejects.toThrow(/403/);
  });
});

describe('POST /api/drills/:id/terminal', () => {
  const openTerminal = (cookie: string) => fetch(`${http_}/api/drills/${lockedDrill.id}/terminal`, { method: 'POST', headers: { cookie }, body: '{}' });

  it('is locked until the clock starts, says why, and opens when the facilitator allows it early', async () => {
    const refused = await openTerminal(aliceCookie);
    expect(refused.status).toBe(423);
    expect(((await refused.json()) as { error: string }).error).toMatch(/open when the facilitator starts the drill clock/);
    expect(opened).toEqual([]);
    expect((await openTerminal(outsiderCookie)).status).toBe(403);
    await service.control(lockedDrill.id, { facilitatorToken: lockedDrill.token }, 'open-terminals');
    const allowed = await openTerminal(aliceCookie);
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ sessionId: 'term-1' });
    await service.control(lockedDrill.id, { facilitatorToken: lockedDrill.token }, 'lock-terminals');
    expect((await openTerminal(aliceCookie)).status).toBe(423);
    await service.control(lockedDrill.id, { facilitatorToken: lockedDrill.token }, 'start');
    expect((await openTerminal(aliceCookie)).status).toBe(200);
  });

  it('tells every browser in the room when the clock unlocks the terminals', async () => {
    const other = await service.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Scribe'] });
    await service.prepared(other.drill.id);
    const ws = new WebSocket(`${base}/ws/drills/${other.drill.id}`);
    const states: DrillServerMessage[] = [];
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token: other.facilitatorToken }));
      ws.send(JSON.stringify({ type: 'hello', afterSeq: 0 }));
    });
    ws.on('message', (data) => states.push(JSON.parse(data.toString()) as DrillServerMessage));
    const until = async (test: () => boolean) => {
      for (let i = 0; i < 300 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(test()).toBe(true);
    };
    await until(() => states.some((m) => m.type === 'snapshot' && !m.drill.terminals.open));
    await service.control(other.drill.id, { facilitatorToken: other.facilitatorToken }, 'start');
    await until(() => states.some((m) => m.type === 'state' && m.drill.terminals.open));
    ws.close();
  });
});
