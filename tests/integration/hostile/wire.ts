/**
 * HTTP and WebSocket spoken byte by byte over a TCP socket, so that a test can send what no
 * well-behaved client would (a Content-Length that lies, a Host that is no host, a frame with a
 * reserved opcode) and still read the answer. Every call has a deadline: a request the server
 * never answers fails as "hung" instead of stalling the suite.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class Hung extends Error {
  constructor(what: string, ms: number) {
    super(`no answer to ${what} within ${ms} ms`);
    this.name = 'Hung';
  }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      headers[name] = headers[name] ? `${headers[name]}, ${line.slice(colon + 1).trim()}` : line.slice(colon + 1).trim();
    }
  }
  return { status, headers };
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Sends `request` as is (the caller writes `Connection: close`) and reads the response until the
 * server closes. With `halfClose`, the client ends its side after writing (a body shorter than its
 * Content-Length): the server must then answer or close, not wait. Resolves `status: 0` when the
 * server closed without a status line.
 */
export async function rawHttp(port: number, request: string | Buffer, options: { timeoutMs?: number; halfClose?: boolean } = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const socket = await open(port);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Hung(String(request).split('\r\n')[0] ?? 'a request', timeoutMs));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return resolve({ status: 0, headers: {}, body: all.toString('latin1') });
      const { status, headers } = parseHead(all.subarray(0, split).toString('latin1'));
      const rest = all.subarray(split + 4);
      resolve({ status, headers, body: (headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest).toString('utf8') });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset after the answer is still an answer
    socket.on('close', finish);
    socket.write(request);
    if (options.halfClose) socket.end();
  });
}

/** Sends `request` and resets the connection (TCP RST) at once, before any answer can arrive. */
export async function sendAndReset(port: number, request: string | Buffer): Promise<void> {
  const socket = await open(port);
  socket.on('error', () => undefined);
  socket.write(request);
  socket.resetAndDestroy();
}

/** An HTTP/1.1 request with `Connection: close`; `headers` may hold anything, even lies. */
export function httpRequest(method: string, target: string, headers: Array<[string, string]>, body: string | Buffer = '', connection = 'close'): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([name, value]) => `${name}: ${value}`), `Connection: ${connection}`];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

export interface RawFrame {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
}

/** One client frame, masked unless told otherwise. */
export function encodeFrame({ opcode, payload, fin = true, rsv = 0, masked = true }: RawFrame): Buffer {
  const length = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), mask, body]);
}

export const text = (value: string | Buffer): RawFrame => ({ opcode: 1, payload: Buffer.isBuffer(value) ? value : Buffer.from(value) });
export const binary = (value: Buffer): RawFrame => ({ opcode: 2, payload: value });
export const ping = (value = Buffer.alloc(0)): RawFrame => ({ opcode: 9, payload: value });

export interface ServerFrames {
  /** Text frames the server sent, in order. */
  texts: string[];
  pongs: number;
  /** The close frame's code (1005 when it carried none), or undefined: the server sent no close frame. */
  closeCode: number | undefined;
  closeReason: string;
  /** The TCP connection ended. */
  ended: boolean;
}

/** An open WebSocket spoken frame by frame. */
export interface RawSocket {
  /** The handshake's HTTP status: 101, or the refusal (403...). */
  status: number;
  send(frames: RawFrame[] | Buffer): void;
  /** Resolves once `until` holds for what arrived so far (or the connection ended); rejects as Hung after `timeoutMs`. */
  read(until: (frames: ServerFrames) => boolean, timeoutMs?: number): Promise<ServerFrames>;
  destroy(): void;
}

export async function openRawSocket(port: number, target: string, headers: Array<[string, string]> = [], timeoutMs = 10_000): Promise<RawSocket> {
  const socket = await open(port);
  const key = randomBytes(16).toString('base64');
  socket.write(httpRequest('GET', target, [['Host', `127.0.0.1:${port}`], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', key], ...headers], '', 'Upgrade'));
  let buffer = Buffer.alloc(0);
  const frames: ServerFrames = { texts: [], pongs: 0, closeCode: undefined, closeReason: '', ended: false };
  let status = 0;
  let waiter: (() => void) | undefined;
  const parse = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (buffer.length < at + length) return;
      const payload = buffer.subarray(at, at + length);
      buffer = buffer.subarray(at + length);
      if (opcode === 1) frames.texts.push(payload.toString('utf8'));
      else if (opcode === 10) frames.pongs++;
      else if (opcode === 8) {
        frames.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        frames.closeReason = payload.subarray(2).toString('utf8');
      }
    }
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Hung(`the upgrade of ${target}`, timeoutMs)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const split = buffer.indexOf('\r\n\r\n');
      if (split < 0) return;
      status = parseHead(buffer.subarray(0, split).toString('latin1')).status;
      buffer = buffer.subarray(split + 4);
      socket.off('data', onData);
      clearTimeout(timer);
      resolve();
    };
    socket.on('data', onData);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    parse();
    waiter?.();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    frames.ended = true;
    waiter?.();
  });
  if (socket.destroyed) frames.ended = true;
  parse();
  return {
    status,
    send(data) {
      if (!socket.destroyed) socket.write(Buffer.isBuffer(data) ? data : Buffer.concat(data.map(encodeFrame)));
    },
    read(until, ms = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (until(frames) || frames.ended) {
            clearTimeout(timer);
            waiter = undefined;
            resolve(frames);
          }
        };
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Hung(`frames on ${target} (got ${JSON.stringify({ ...frames, texts: frames.texts.map((t) => t.slice(0, 80)) })})`, ms));
        }, ms);
        waiter = check;
        check();
      });
    },
    destroy: () => socket.destroy(),
  };
}
