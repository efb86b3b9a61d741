/**
 * The terminal's HTTP endpoint and WebSocket, mounted in front of Astro by serve.ts:
 *   POST /api/terminal/session  → the learner's session (created if needed) for this browser;
 *                                 `slot` 2 is a second shell (the lab page's second terminal)
 *   GET  /ws/terminal/<id>      → WebSocket upgrade; protocol in docs/protocol.md
 *   GET  /ws/terminal/<id>?watch=1 → read-only: replay and live output, input ignored; only for
 *                                 learners `canWatch` allows (drills: the same drill)
 *
 * The learner is whoever the learner session cookie says (src/server/learners; created on the
 * first POST when the browser has none). A session's WebSocket is only accepted from the learner
 * who owns it, and only from our own origin (a cross-site page cannot open a learner's shell
 * with their cookie).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { keepAlive } from './ws-heartbeat.ts';
import { acceptUpgrade, CLOSE_UNSUPPORTED_DATA, guarded, refuseUpgrade, safeWebSocketServer } from './ws-safety.ts';
import { internalError, MAX_BODY_BYTES, sendJson as json } from './endpoint.ts';
import { CLOSE_PROTOCOL, CLOSE_SESSION_GONE, SESSION_ID_PATTERN, parseClientMessage, terminalSocketPath } from '../../lib/terminal-protocol.ts';
import { refusalHeaders, type Refusal } from '../limits/server-limits.ts';
import { SandboxUnavailableError } from '../terminal/sandbox-host.ts';
import { isTerminalSlot, SlotRefusedError, TERMINAL_SLOTS, type TerminalManager } from '../terminal/session-manager.ts';
import type { TerminalConnection, TerminalSession } from '../terminal/session.ts';
import { sameOrigin } from './same-origin.ts';

const HELLO_TIMEOUT_MS = 10_000;

export interface TerminalRoutes {
  /** Handles the request if it is ours; false: let Astro have it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Handles a WebSocket upgrade if it is ours; false: not ours. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

/** Who is asking: the learner id, plus a Set-Cookie header when one was just created. */
export interface Identify {
  (req: IncomingMessage, options: { create: true }): Promise<{ id: string; setCookie?: string }>;
  (req: IncomingMessage, options: { create: false }): Promise<{ id: string; setCookie?: string } | undefined>;
}

/** The cookie's value; a malformed one (`%zz`) is no cookie. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

class BodyError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

async function readJson(req: IncomingMessage, limit = 4096): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Past the limit the rest is dropped, not left unread: a reset would hide the 413.
      if (size > MAX_BODY_BYTES) throw new BodyError(`the request body is larger than ${limit} bytes`, 413);
      if (size <= limit) chunks.push(chunk);
    }
  } catch (error) {
    throw error instanceof BodyError ? error : new BodyError('the request body could not be read', 400);
  }
  if (size > limit) throw new BodyError(`the request body is larger than ${limit} bytes`, 413);
  const body = Buffer.concat(chunks).toString('utf8');
  if (!body.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BodyError('the request body is not JSON', 400);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError('the request body must be a JSON object', 400);
  return value as Record<string, unknown>;
}


/** May this learner watch this session read-only? (drills: both in the same drill; classes: the request is an instructor's) */
export type CanWatch = (learnerId: string, session: TerminalSession, req: IncomingMessage) => boolean | Promise<boolean>;

/**
 * Asked before a new session starts (none live for this learner, or `fresh`): a refusal (the
 * session would create a cluster past the requester's budget) is answered 429. `learnerId` is
 * undefined for a requester without a learner cookie yet.
 */
export type AdmitNewSession = (req: IncomingMessage, learnerId: string | undefined) => Promise<Refusal | undefined>;

export function createTerminalRoutes(manager: TerminalManager, identify: Identify, canWatch: CanWatch = () => false, admitNewSession?: AdmitNewSession): TerminalRoutes {
  const wss = safeWebSocketServer(64 * 1024);

  async function openSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return json(res, 403, { error: 'Cross-site requests cannot open a terminal.' });
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return json(res, error.status, { error: `${error.message}; send {"cols", "rows", "fresh"?, "slot"?}` });
    }
    const slot = body.slot ?? 1;
    if (!isTerminalSlot(slot)) return json(res, 400, { error: `"slot" must be one of ${TERMINAL_SLOTS.join(', ')} (a learner has at most ${TERMINAL_SLOTS.length} shells)` });
    // Budgets before a learner is created, so that a refused flood without cookies creates none.
    const known = await identify(req, { create: false });
    let headers: Record<string, string> = {};
    try {
      const live = known !== undefined && manager.liveSession(known.id, slot) !== undefined;
      const refused = admitNewSession && (body.fresh === true || !live) ? await admitNewSession(req, known?.id) : undefined;
      if (refused) return json(res, 429, { error: refused.reason, retryAfterSeconds: refused.retryAfterSeconds }, refusalHeaders(refused));
      const learner = known ?? (await identify(req, { create: true }));
      if (learner.setCookie) headers = { 'set-cookie': learner.setCookie };
      if (body.fresh === true) {
        // Only this slot's shell: the learner's other terminal keeps running.
        for (const old of manager.list().filter((s) => s.owner === learner.id && s.slot === slot)) await manager.close(old.id, 'Replaced by a new session.');
      }
      const cols = typeof body.cols === 'number' ? body.cols : 80;
      const rows = typeof body.rows === 'number' ? body.rows : 24;
      const session = await manager.open(learner.id, { cols, rows }, { slot });
      json(res, 200, { sessionId: session.id, socketPath: terminalSocketPath(session.id), cluster: session.lease?.name ?? null, expiresAt: session.expiresAt }, headers);
    } catch (error) {
      if (error instanceof SlotRefusedError) return json(res, 409, { error: error.message }, headers);
      const message = error instanceof SandboxUnavailableError ? error.message : `The terminal could not start: ${(error as Error).message}`;
      console.error(`irlab terminal: ${message}`);
      json(res, 503, { error: message }, headers);
    }
  }

  function serve(ws: WebSocket, sessionId: string, watch = false): void {
    const connection: TerminalConnection = {
      sendText: (message) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(message)),
      sendBinary: (frame) => ws.readyState === ws.OPEN && ws.send(frame, { binary: true }),
      close: (code, reason) => ws.close(code, reason),
    };
    const session = manager.get(sessionId);
    if (!session) {
      connection.sendText({ t: 'error', code: 'session-gone', message: 'This terminal session has ended. Start a new one.' });
      ws.close(CLOSE_SESSION_GONE, 'session gone');
      return;
    }
    let greeted = false;
    const helloTimer = setTimeout(() => !greeted && ws.close(CLOSE_PROTOCOL, 'no hello'), HELLO_TIMEOUT_MS);
    const heartbeat = keepAlive(ws);
    ws.on('message', guarded(ws, 'terminal', (data: Buffer, isBinary: boolean) => {
      heartbeat.seen();
      if (isBinary) {
        connection.sendText({ t: 'error', code: 'bad-message', message: 'The client sends text frames only.' });
        return ws.close(CLOSE_UNSUPPORTED_DATA);
      }
      const text = data.toString();
      if (!greeted) {
        const hello = parseClientMessage(text);
        if ('error' in hello || hello.t !== 'hello') {
          connection.sendText({ t: 'error', code: 'bad-message', message: 'The first message must be hello.' });
          return ws.close(CLOSE_PROTOCOL, 'expected hello');
        }
        greeted = true;
        clearTimeout(helloTimer);
        return watch ? session.watch(connection, hello) : session.attach(connection, hello);
      }
      if (!watch) session.receive(connection, text); // a watcher's input, resizes and acks are ignored
    }));
    ws.on('close', guarded(ws, 'terminal', () => {
      clearTimeout(helloTimer);
      heartbeat.stop();
      if (watch) session.unwatch(connection);
      else session.detach(connection);
    }));
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://irlab');
      if (url.pathname === '/api/terminal/session') {
        if (req.method !== 'POST') {
          json(res, 405, { error: 'Use POST.' }, { allow: 'POST' });
          return true;
        }
        openSession(req, res).catch((error: unknown) => internalError(res, 'the terminal endpoint', error));
        return true;
      }
      return false;
    },
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://irlab');
      const match = /^\/ws\/terminal\/([^/]+)$/.exec(url.pathname);
      if (!match) return false;
      const sessionId = match[1]!;
      const watch = url.searchParams.get('watch') === '1';
      if (!SESSION_ID_PATTERN.test(sessionId) || !sameOrigin(req)) return refuseUpgrade(socket, 403, 'Forbidden'), true;
      // Whether the upgrade is ours is known now; who asks takes the store (then accepted or refused).
      void (async () => {
        const learner = await identify(req, { create: false });
        const session = manager.get(sessionId);
        if (!learner) refuseUpgrade(socket, 403, 'Forbidden');
        else if (watch && (!session || !(await canWatch(learner.id, session, req)))) refuseUpgrade(socket, 403, 'Forbidden');
        else if (!watch && session && session.principal !== learner.id) refuseUpgrade(socket, 403, 'Forbidden');
        else acceptUpgrade(wss, req, socket, head, 'terminal', (ws) => serve(ws, sessionId, watch));
      })().catch(() => refuseUpgrade(socket, 503, 'Service Unavailable'));
      return true;
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
