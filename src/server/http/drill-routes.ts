/**
 * The drill routes Astro cannot serve, mounted in front of it by serve.ts:
 *   POST /api/drills/<id>/terminal → {sessionId}: the participant's own terminal on the drill
 *                                    cluster (spoken over /ws/terminal/<id>, docs/protocol.md)
 *   GET  /ws/drills/<id>           → the drill's live feed (docs/drills.md)
 *
 * WebSocket: a participant is known by the learner session cookie; the facilitator sends
 * `{type:'auth', token}` as the first frame (never a token in the URL). Then `{type:'hello',
 * afterSeq}` → `{type:'snapshot', drill}` (its log is the full log), then `{type:'entry'}` for
 * every entry after the client's seq (missed ones first), and `{type:'state', drill}` on changes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { keepAlive } from './ws-heartbeat.ts';
import { acceptUpgrade, guarded, refuseUpgrade, safeWebSocketServer } from './ws-safety.ts';
import { internalError, sendJson as json } from './endpoint.ts';
import { httpStatusOf } from '../../lib/error-status.ts';
import type { DrillClientMessage, DrillServerMessage, LogEntry } from '../../lib/drill-view.ts';
import type { Caller, DrillEvent, DrillService } from '../drill/service.ts';
import type { Identify } from './terminal-routes.ts';
import { sameOrigin } from './same-origin.ts';

const FIRST_FRAME_TIMEOUT_MS = 10_000;
/** Coalesce bursts of state changes (a scoreboard pass touches several rows) into one view. */
const STATE_DEBOUNCE_MS = 150;
/** Close connections that stopped reading rather than buffer without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface DrillRoutes {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

const statusOf = (error: unknown) => httpStatusOf(error) ?? 500;

function parse(text: string): DrillClientMessage | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value.type === 'auth' && typeof value.token === 'string' && value.token.length < 200) return { type: 'auth', token: value.token };
    if (value.type === 'hello') return { type: 'hello', afterSeq: Number.isInteger(value.afterSeq) && (value.afterSeq as number) >= 0 ? (value.afterSeq as number) : 0 };
  } catch {
    // not JSON: refused below
  }
  return undefined;
}

export function createDrillRoutes(drills: DrillService, identify: Identify): DrillRoutes {
  const wss = safeWebSocketServer(4 * 1024);

  async function openTerminal(req: IncomingMessage, res: ServerResponse, drillId: string): Promise<void> {
    if (!sameOrigin(req)) return json(res, 403, { error: 'Cross-site requests cannot open a terminal.' });
    try {
      const learner = await identify(req, { create: false });
      json(res, 200, await drills.terminal(drillId, learner ? { learnerId: learner.id } : {}));
    } catch (error) {
      const status = statusOf(error);
      if (status >= 500) console.error(`irlab drill terminal: ${(error as Error).message}`);
      json(res, status, { error: status === 500 ? `The terminal could not start: ${(error as Error).message}` : (error as Error).message });
    }
  }

  function serve(ws: WebSocket, drillId: string, learnerId: string | undefined): void {
    const send = (message: DrillServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.terminate();
      ws.send(JSON.stringify(message));
    };
    const fail = (error: string, code = 4400) => {
      send({ type: 'error', error });
      ws.close(code, error.slice(0, 100));
    };
    let caller: Caller | null = null;
    let lastSent = -1; // -1 until the snapshot went out; entries before it wait in `queued`
    const queued: DrillServerMessage[] = [];
    let stateTimer: NodeJS.Timeout | null = null;
    let unsubscribe: (() => void) | null = null;
    const firstFrame = setTimeout(() => !caller && fail('send hello (or auth, then hello) first', 4408), FIRST_FRAME_TIMEOUT_MS);
    const heartbeat = keepAlive(ws);

    const pushState = () => {
      stateTimer = null;
      if (!caller) return;
      drills.view(drillId, caller).then((drill) => send({ type: 'state', drill }), (error: unknown) => fail((error as Error).message, 4403));
    };

    /**
     * Entries go out in seq order, each once. Appends commit concurrently, so their events can
     * arrive out of order: a gap (seq n+2 announced before n+1) is filled by reading the log
     * after the last entry sent (n+1 committed before n+2 got its seq, repository.ts).
     */
    let catchingUp = false;
    const heldBack: LogEntry[] = [];
    const deliver = (entry: LogEntry): void => {
      if (catchingUp) return void heldBack.push(entry);
      if (entry.seq <= lastSent) return;
      if (entry.seq === lastSent + 1) {
        lastSent = entry.seq;
        return send({ type: 'entry', entry });
      }
      catchingUp = true;
      drills.entriesAfter(drillId, lastSent).then(
        (missed) => {
          catchingUp = false;
          for (const e of missed) if (e.seq > lastSent) {
            lastSent = e.seq;
            send({ type: 'entry', entry: e });
          }
          for (const e of heldBack.splice(0)) deliver(e);
        },
        (error: unknown) => fail((error as Error).message, 1011),
      );
    };

    let facilitatorToken: string | undefined;
    let greeted = false;
    ws.on('message', guarded(ws, 'drill', (data: Buffer, isBinary: boolean) => {
      heartbeat.seen();
      const message = isBinary ? undefined : parse(data.toString());
      if (!message) return fail('messages are JSON: {type:"auth",token} or {type:"hello",afterSeq}');
      if (greeted) return; // one hello per connection; reconnect to resume
      if (message.type === 'auth') {
        facilitatorToken = message.token;
        return;
      }
      greeted = true;
      const candidate: Caller = facilitatorToken ? { facilitatorToken } : learnerId ? { learnerId } : {};
      drills.authorize(drillId, candidate).then(
        () => {
          if (ws.readyState !== ws.OPEN) return;
          caller = candidate;
          clearTimeout(firstFrame);
          start(candidate, message.afterSeq);
        },
        (error: unknown) => fail((error as Error).message, statusOf(error) === 404 ? 4404 : 4403),
      );
    }));

    function start(who: Caller, afterSeq: number): void {
      unsubscribe = drills.subscribe(drillId, guarded(ws, 'drill', (event: DrillEvent) => {
        if (event.type === 'entry') {
          if (lastSent < 0) queued.push({ type: 'entry', entry: event.entry });
          else deliver(event.entry);
        } else stateTimer ??= setTimeout(pushState, STATE_DEBOUNCE_MS);
      }));
      drills.view(drillId, who).then(
        (drill) => {
          send({ type: 'snapshot', drill });
          // The snapshot holds the full log; entries the client missed also come one by one, in order.
          for (const entry of drill.log) if (entry.seq > afterSeq) send({ type: 'entry', entry });
          lastSent = drill.log.at(-1)?.seq ?? 0;
          for (const pending of queued.splice(0)) if (pending.type === 'entry') deliver(pending.entry);
        },
        (error: unknown) => fail((error as Error).message, 4403),
      );
    }
    ws.on('close', guarded(ws, 'drill', () => {
      clearTimeout(firstFrame);
      heartbeat.stop();
      if (stateTimer) clearTimeout(stateTimer);
      unsubscribe?.();
    }));
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://irlab');
      const match = /^\/api\/drills\/([A-Za-z0-9_-]{1,64})\/terminal$/.exec(url.pathname);
      if (!match) return false;
      if (req.method !== 'POST') json(res, 405, { error: 'Use POST.' }, { allow: 'POST' });
      else openTerminal(req, res, match[1]!).catch((error: unknown) => internalError(res, 'the drill terminal endpoint', error));
      return true;
    },
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://irlab');
      const match = /^\/ws\/drills\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
      if (!match) return false;
      if (!sameOrigin(req)) {
        refuseUpgrade(socket, 403, 'Forbidden');
        return true;
      }
      void identify(req, { create: false }).then(
        (learner) => acceptUpgrade(wss, req, socket, head, 'drill', (ws) => serve(ws, match[1]!, learner?.id)),
        () => refuseUpgrade(socket, 503, 'Service Unavailable'),
      );
      return true;
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
