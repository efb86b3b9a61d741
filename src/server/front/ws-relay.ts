/**
 * A front's WebSocket relay: the browser's terminal or drill socket, carried to the cell that owns
 * the session (docs/deploy.md, "Fronts and cells"). The front has already authenticated the
 * browser and chosen the cell; this module only carries frames, and holds three properties:
 *
 *   - The browser's upgrade is accepted only once the cell has accepted ours, so a cell that is
 *     down or refuses answers the browser with an HTTP status (502, or the cell's 4xx), which the
 *     terminal client treats like any failed connect: it retries, maybe through another front.
 *   - Flow control end to end: a side that does not read (a slow browser, a flooding shell) stops
 *     the front from reading the other side once `maxBufferedBytes` are in flight, so the front's
 *     memory per relay is bounded and TCP pushes back on the sender.
 *   - Close codes pass through (the terminal protocol's 4xxx codes mean something to the client);
 *     a side lost without a close frame, or the front stopping, closes the other with 1001 so the
 *     browser reconnects and the protocol's replay resumes the stream.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import { acceptUpgrade, closeReason, refuseUpgrade, validCode } from '../http/ws-safety.ts';

/** Going away (RFC 6455): the peer was lost or the front is stopping; the client reconnects. */
export const CLOSE_GOING_AWAY = 1001;

export interface RelayTarget {
  /** The cell's WebSocket URL for this session (ws:// or wss://). */
  url: string;
  /** Headers the cell authenticates the forwarded request by (the signed forward header). */
  headers: Record<string, string>;
}

export interface RelayOptions {
  /** Completes the browser's upgrade (a safeWebSocketServer: its sockets close safely). */
  wss: WebSocketServer;
  target: RelayTarget;
  /** How long the cell may take to accept; then the browser gets 504. */
  connectTimeoutMs: number;
  /** Bytes sent to one side and not yet written to its socket before the other side is paused. */
  maxBufferedBytes: number;
  /** Largest message accepted from the cell (the browser side's limit is the wss's). */
  maxPayload: number;
  /** The front stopping: both sides are closed with 1001. */
  signal?: AbortSignal;
}

export interface Relay {
  /** Resolves when both sides are closed (or the upgrade was refused). */
  readonly done: Promise<void>;
  /** What the relay holds now (a front's metrics; zero before the upgrade completes). */
  stats(): RelayStats;
}

export interface RelayStats {
  /** Bytes accepted from the cell and not yet written to the browser's socket. */
  toBrowserBytes: number;
  toCellBytes: number;
  /** The front stopped reading the cell because the browser is behind. */
  cellPaused: boolean;
  browserPaused: boolean;
}

interface Direction {
  inFlight: number;
  from?: WebSocket;
}

/**
 * Connects to the cell, then completes the browser's upgrade and carries frames both ways until
 * either side closes. Never throws: every failure ends as an HTTP status or a close code.
 */
export function relayUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, options: RelayOptions): Relay {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const toBrowser: Direction = { inFlight: 0 };
  const toCell: Direction = { inFlight: 0 };
  const stats = (): RelayStats => ({
    toBrowserBytes: toBrowser.inFlight,
    toCellBytes: toCell.inFlight,
    cellPaused: toBrowser.from?.isPaused ?? false,
    browserPaused: toCell.from?.isPaused ?? false,
  });
  if (options.signal?.aborted) {
    refuseUpgrade(socket, 503, 'Service Unavailable');
    finish();
    return { done, stats };
  }
  const upstream = new WebSocket(options.target.url, {
    headers: options.target.headers,
    handshakeTimeout: options.connectTimeoutMs,
    perMessageDeflate: false,
    maxPayload: options.maxPayload,
    followRedirects: false,
  });
  let answered = false;
  const refuse = (status: number, text: string) => {
    if (answered) return;
    answered = true;
    refuseUpgrade(socket, status, text);
    options.signal?.removeEventListener('abort', abortConnect);
    finish();
  };
  // The browser gave up while the cell was being reached: nothing to relay.
  const browserGone = () => {
    upstream.terminate();
    refuse(499, 'Client Closed Request');
  };
  const abortConnect = () => {
    upstream.terminate();
    refuse(503, 'Service Unavailable');
  };
  socket.once('close', browserGone);
  socket.on('error', () => socket.destroy());
  options.signal?.addEventListener('abort', abortConnect, { once: true });

  upstream.on('unexpected-response', (_request, response) => {
    // The cell's refusal (a bad signature, a session it does not have) is the answer; anything
    // else it says is a broken cell.
    const status = response.statusCode ?? 502;
    response.resume();
    upstream.terminate();
    refuse(status >= 400 && status < 500 ? status : 502, status >= 400 && status < 500 ? (response.statusMessage ?? 'Refused') : 'Bad Gateway');
  });
  upstream.on('error', (error: Error) => {
    if (answered) return;
    refuse(/timed out|timeout/i.test(error.message) ? 504 : 502, /timed out|timeout/i.test(error.message) ? 'Gateway Timeout' : 'Bad Gateway');
  });
  upstream.once('open', () => {
    socket.off('close', browserGone);
    options.signal?.removeEventListener('abort', abortConnect);
    if (answered || socket.destroyed) {
      upstream.terminate();
      return finish();
    }
    answered = true;
    acceptUpgrade(options.wss, req, socket, head, 'relay', (browser) => {
      forward(browser, upstream, toCell, options.maxBufferedBytes);
      forward(upstream, browser, toBrowser, options.maxBufferedBytes);
      closeTogether(browser, upstream, options, finish);
    });
  });
  return { done, stats };
}

function closeTogether(browser: WebSocket, upstream: WebSocket, options: RelayOptions, finish: () => void): void {
  let closed = 0;
  const onClosed = () => {
    if (++closed === 2) {
      options.signal?.removeEventListener('abort', stop);
      finish();
    }
  };
  const passClose = (to: WebSocket) => (code: number, reason: Buffer) => {
    onClosed();
    if (to.readyState === WebSocket.CLOSED || to.readyState === WebSocket.CLOSING) return;
    if (validCode(code)) to.close(code, closeReason(reason.toString()));
    else to.close(CLOSE_GOING_AWAY, to === browser ? 'the terminal server went away; reconnecting' : 'the browser went away');
  };
  browser.on('close', passClose(upstream));
  upstream.on('close', passClose(browser));
  upstream.on('error', () => undefined); // followed by close, handled above
  const stop = () => {
    browser.close(CLOSE_GOING_AWAY, 'this server is stopping; reconnecting');
    upstream.close(CLOSE_GOING_AWAY, 'the front is stopping');
  };
  options.signal?.addEventListener('abort', stop, { once: true });
}

/** Frames from `from` to `to`, reading `from` only while `to` has room. */
function forward(from: WebSocket, to: WebSocket, direction: Direction, maxBufferedBytes: number): void {
  direction.from = from;
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    const size = byteLength(data);
    direction.inFlight += size;
    to.send(data, { binary: isBinary }, () => {
      direction.inFlight -= size;
      // Resumed at half, so a steady stream does not pause and resume on every frame.
      if (from.isPaused && direction.inFlight <= maxBufferedBytes / 2) from.resume();
    });
    if (direction.inFlight > maxBufferedBytes && !from.isPaused) from.pause();
  });
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
