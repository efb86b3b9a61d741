/**
 * A WebSocket that answers neither pings nor anything else for a whole interval is gone (a laptop
 * lid closed, a proxy that dropped it without a FIN): terminate it, so its session is detached
 * and its resources freed, instead of waiting for TCP to notice.
 */
import type { WebSocket } from 'ws';

export const PING_INTERVAL_MS = 20_000;

/** Starts pinging `ws`; returns `seen` (call it on every message) and `stop` (call it on close). */
export function keepAlive(ws: WebSocket, intervalMs = PING_INTERVAL_MS): { seen: () => void; stop: () => void } {
  let alive = true;
  const ping = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, intervalMs);
  ws.on('pong', () => (alive = true));
  return { seen: () => (alive = true), stop: () => clearInterval(ping) };
}
