/**
 * `GET /api/health`: `{ok: true}` for anyone (load balancers, uptime checks, the tests), so that
 * nothing about the process (memory, how many learners have a terminal) is public. With the
 * instructor token (`Authorization: Bearer`), also process memory and terminal counts (operators,
 * the e2e test, the bench), and the xAPI outbox's counts when an LRS is configured.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokenMatches } from '../instructors/token.ts';
import type { TerminalManager } from '../terminal/session-manager.ts';
import type { OutboxStatus } from '../xapi/outbox.ts';
import { sendJson } from './endpoint.ts';

function isOperator(req: IncomingMessage, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return tokenMatches(bearer, token);
}

/** Answers /api/health and returns true, or returns false: not this route. */
export function handleHealth(req: IncomingMessage, res: ServerResponse, manager: TerminalManager | null, instructorToken: string, xapi?: { outbox: { status(failuresShown?: number): Promise<OutboxStatus> } } | null): boolean {
  if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://irlab').pathname !== '/api/health') return false;
  if (!isOperator(req, instructorToken)) {
    sendJson(res, 200, { ok: true });
    return true;
  }
  const memory = process.memoryUsage();
  const sessions = manager?.list() ?? [];
  const body = {
    ok: true,
    uptimeSeconds: Math.round(process.uptime()),
    memory: { rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, arrayBuffers: memory.arrayBuffers },
    terminal: {
      available: manager !== null,
      sessions: sessions.length,
      attached: sessions.filter((s) => s.attached).length,
      retainedOutputBytes: sessions.reduce((sum, s) => sum + s.retainedBytes, 0),
      peakRetainedOutputBytes: sessions.reduce((max, s) => Math.max(max, s.peakRetainedBytes), 0),
    },
  };
  if (!xapi) {
    sendJson(res, 200, body);
    return true;
  }
  // The outbox's counts come from the store (PostgreSQL may be away a moment): then say so, still 200 for the process.
  void xapi.outbox.status(0).then(
    (status) => sendJson(res, 200, { ...body, xapi: xapiCounts(status) }),
    (error: unknown) => sendJson(res, 200, { ...body, xapi: { problem: `the store did not answer for the xAPI outbox: ${error instanceof Error ? error.message : String(error)}` } }),
  );
  return true;
}

/** Counts only: a refused statement's reason and content stay in `irlab xapi status`. */
function xapiCounts(status: OutboxStatus) {
  return { delivered: status.delivered, waiting: status.pending, refused: status.failed, oldestWaitingAt: status.oldestPendingAt, lastError: status.lastError };
}
