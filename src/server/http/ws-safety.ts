/**
 * WebSockets that no client can turn into a process exit. `ws` reports a bad frame (over the size
 * limit, invalid UTF-8, a reserved opcode) by closing the socket with a code and then emitting
 * `error` on it; with no listener, that `error` ends the process. Here every socket gets a
 * listener, every close carries a reason a person can read (ws sends none for its own closes),
 * and every handler runs guarded: a throw closes that socket with 1011, never the server.
 */
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/** Close codes for frames the server refuses (RFC 6455 section 7.4.1). */
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_SERVER_ERROR = 1011;

const CLOSE_REASON_BYTES = 123;

/** `reason` cut to what a close frame holds, on a character boundary. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= CLOSE_REASON_BYTES) return reason;
  let cut = '';
  for (const char of reason) {
    if (Buffer.byteLength(cut + char) > CLOSE_REASON_BYTES - 3) break;
    cut += char;
  }
  return `${cut}...`;
}

/** A close code a peer may send (1005, 1006 and 1004 are reserved; 1015+ below 3000 unassigned). */
export const validCode = (code: number) => (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);

function defaultReason(code: number, maxPayload: number): string {
  switch (code) {
    case 1002:
      return 'protocol error: a frame the WebSocket protocol does not allow';
    case 1003:
      return 'text frames only';
    case 1007:
      return 'invalid UTF-8 in a text frame';
    case 1009:
      return `message too big: at most ${maxPayload / 1024} KiB`;
    case 1011:
      return 'server error; the server log has the details';
    default:
      return '';
  }
}

/** A WebSocket server (noServer: upgrades are routed by serve.ts) whose sockets close safely. */
export function safeWebSocketServer(maxPayload: number): WebSocketServer {
  class SafeWebSocket extends WebSocket {
    // ws closes a socket on a bad frame with a bare code; this adds the reason. A code ws would
    // refuse (or a reason too long) would throw inside the caller's handler: both are fixed here.
    override close(code?: number, reason?: string | Buffer): void {
      const safeCode = code === undefined || validCode(code) ? code : CLOSE_SERVER_ERROR;
      const text = reason === undefined || reason.length === 0 ? (safeCode === undefined ? '' : defaultReason(safeCode, maxPayload)) : reason.toString();
      super.close(safeCode, safeCode === undefined ? undefined : closeReason(text));
    }
  }
  return new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, WebSocket: SafeWebSocket });
}

/**
 * Completes an upgrade and hands the socket to `serve`, with an `error` listener on it first. An
 * error in `serve` closes that socket with 1011.
 */
export function acceptUpgrade(wss: WebSocketServer, req: Parameters<WebSocketServer['handleUpgrade']>[0], socket: Duplex, head: Buffer, where: string, serve: (ws: WebSocket) => void): void {
  wss.handleUpgrade(req, socket, head, (ws) => {
    // A bad frame is the client's fault, answered by its close code and reason: not worth a log
    // line each (a learner could fill the log with them).
    ws.on('error', () => undefined);
    guarded(ws, where, () => serve(ws))();
  });
}

/** `handler`, but a throw is logged on one line and closes `ws` with 1011 instead of escaping. */
export function guarded<A extends unknown[]>(ws: WebSocket, where: string, handler: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      handler(...args);
    } catch (error) {
      console.error(`irlab: ${where} socket handler failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      try {
        ws.close(CLOSE_SERVER_ERROR);
      } catch {
        ws.terminate();
      }
    }
  };
}

/** Ends a socket that will not become a WebSocket with an HTTP status, ignoring a peer already gone. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.destroyed) return;
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
