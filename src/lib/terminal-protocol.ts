/**
 * The browser terminal's wire protocol, shared by the island and the server (no node:*, no DOM).
 * docs/protocol.md explains it; this file is the single source of the shapes.
 *
 * - Control messages are JSON text frames, `t` says which.
 * - Terminal output is a binary frame: one type byte, a big-endian u32 chunk sequence number,
 *   then the raw bytes (UTF-8 text with escape sequences). Chunks always start and end on a
 *   character and escape-sequence boundary, so replay can start at any chunk.
 */

export const PROTOCOL_VERSION = 1;

/** First byte of a binary frame that carries terminal output. */
export const OUTPUT_FRAME = 1;
/** Type byte + u32 sequence number. */
export const OUTPUT_HEADER_BYTES = 5;

/** Sizes the server clamps a resize to: a terminal smaller than this is useless, larger is abuse. */
export const MIN_COLS = 2;
export const MAX_COLS = 1000;
export const MIN_ROWS = 1;
export const MAX_ROWS = 500;
/** Longest input frame the server accepts (a large paste is split by the client). */
export const MAX_INPUT_CHARS = 16 * 1024;

/** Client → server. */
export type ClientMessage =
  | {
      t: 'hello';
      /** Protocol version the client speaks. */
      v: number;
      /**
       * Random id of this terminal instance (one per page load). Input numbering is per client: a
       * second tab or a reloaded page starts again at 1 without its keys being taken for repeats.
       */
      clientId: string;
      /** Sequence number of the last output chunk this client has written to its screen (0: none). */
      lastOutputSeq: number;
      cols: number;
      rows: number;
    }
  | {
      t: 'input';
      /** 1, 2, 3... per session, so input resent after a reconnect is applied exactly once. */
      seq: number;
      data: string;
    }
  | { t: 'resize'; cols: number; rows: number }
  | {
      t: 'ack';
      /** Every output chunk up to and including this one has been written to the screen. */
      seq: number;
    };

/** Why the server ended or refused a connection; the client decides whether to reconnect. */
export type TerminalErrorCode =
  /** Another tab opened this session; this connection is closed and must not reconnect by itself. */
  | 'taken-over'
  /** The session is gone (expired, reaped or never existed); start a new one. */
  | 'session-gone'
  /** The client sent something the protocol does not allow. */
  | 'bad-message'
  /** The client speaks another protocol version (reload the page). */
  | 'version'
  /** The sandboxed shell could not start; the message says what is missing. */
  | 'sandbox-failed';

/** Server → client. */
export type ServerMessage =
  | {
      t: 'hello';
      v: number;
      sessionId: string;
      /** Last input seq the server applied from this clientId; the client resends anything after it. */
      lastInputSeq: number;
      /** True when output between the client's lastOutputSeq and the replay was dropped. */
      truncated: boolean;
      /** The cluster this shell's KUBECONFIG points at, or null when none is attached. */
      cluster: string | null;
      /** Epoch ms when the session expires regardless of activity. */
      expiresAt: number;
    }
  | { t: 'exit'; code: number; signal: number | null }
  | { t: 'error'; code: TerminalErrorCode; message: string };

/** WebSocket close codes (4000-4999 are the application's). */
export const CLOSE_TAKEN_OVER = 4001;
export const CLOSE_SESSION_GONE = 4004;
export const CLOSE_PROTOCOL = 4002;

export function encodeOutputFrame(seq: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(OUTPUT_HEADER_BYTES + data.byteLength);
  frame[0] = OUTPUT_FRAME;
  new DataView(frame.buffer).setUint32(1, seq >>> 0, false);
  frame.set(data, OUTPUT_HEADER_BYTES);
  return frame;
}

export function decodeOutputFrame(frame: ArrayBuffer | Uint8Array): { seq: number; data: Uint8Array } | null {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.byteLength < OUTPUT_HEADER_BYTES || bytes[0] !== OUTPUT_FRAME) return null;
  const seq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, false);
  return { seq, data: bytes.subarray(OUTPUT_HEADER_BYTES) };
}

const isInt = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/**
 * Parses one client text frame. Returns a message or a reason it was refused; never throws, so a
 * hostile client cannot crash the server with a bad frame.
 */
export function parseClientMessage(text: string): ClientMessage | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { error: 'not an object' };
  const m = value as Record<string, unknown>;
  switch (m.t) {
    case 'hello':
      if (!isInt(m.v, 0, 1_000)) return { error: 'hello.v must be an integer' };
      if (typeof m.clientId !== 'string' || !CLIENT_ID_PATTERN.test(m.clientId)) return { error: 'hello.clientId must be 8-64 url-safe characters' };
      if (!isInt(m.lastOutputSeq, 0, 0xffffffff)) return { error: 'hello.lastOutputSeq must be an integer ≥ 0' };
      if (!isInt(m.cols, 1, 100_000) || !isInt(m.rows, 1, 100_000)) return { error: 'hello.cols/rows must be positive integers' };
      return { t: 'hello', v: m.v, clientId: m.clientId, lastOutputSeq: m.lastOutputSeq, cols: clampCols(m.cols), rows: clampRows(m.rows) };
    case 'input':
      if (!isInt(m.seq, 1, Number.MAX_SAFE_INTEGER)) return { error: 'input.seq must be an integer ≥ 1' };
      if (typeof m.data !== 'string' || m.data.length > MAX_INPUT_CHARS) return { error: `input.data must be a string of at most ${MAX_INPUT_CHARS} characters` };
      return { t: 'input', seq: m.seq, data: m.data };
    case 'resize':
      if (!isInt(m.cols, 1, 100_000) || !isInt(m.rows, 1, 100_000)) return { error: 'resize.cols/rows must be positive integers' };
      return { t: 'resize', cols: clampCols(m.cols), rows: clampRows(m.rows) };
    case 'ack':
      if (!isInt(m.seq, 0, 0xffffffff)) return { error: 'ack.seq must be an integer ≥ 0' };
      return { t: 'ack', seq: m.seq };
    default:
      return { error: `unknown message type ${JSON.stringify(m.t)}` };
  }
}

export function clampCols(cols: number): number {
  return Math.min(MAX_COLS, Math.max(MIN_COLS, Math.floor(cols)));
}
export function clampRows(rows: number): number {
  return Math.min(MAX_ROWS, Math.max(MIN_ROWS, Math.floor(rows)));
}

/** The WebSocket path of a session; the server routes on it. */
export function terminalSocketPath(sessionId: string): string {
  return `/ws/terminal/${encodeURIComponent(sessionId)}`;
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** A new client id (Web Crypto: the same in browsers and Node 24). */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[b & 63]).join('');
}

/** Session ids are 22 url-safe characters (128 random bits). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
