// Bad frames and throwing handlers close one socket, with a code and a reason, never the process
// (issue #15 finding 3), on a real HTTP server and real `ws` clients.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { acceptUpgrade, closeReason, guarded, safeWebSocketServer } from './ws-safety.ts';
import { readCookie } from './terminal-routes.ts';

let server: http.Server;
let wss: ReturnType<typeof safeWebSocketServer>;
let base: string;

beforeAll(async () => {
  wss = safeWebSocketServer(1024);
  server = http.createServer((_, res) => res.end());
  server.on('upgrade', (req, socket, head) =>
    acceptUpgrade(wss, req, socket, head, 'test', (ws) => {
      ws.on('message', guarded(ws, 'test', (data: Buffer) => {
        if (data.toString() === 'throw') throw new Error('a bug in a handler');
        if (data.toString() === 'long reason') ws.close(4400, '—'.repeat(100));
        else ws.send(`echo ${data.toString()}`);
      }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

function closeOf(send: (ws: WebSocket) => void): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base);
    ws.on('open', () => send(ws));
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    setTimeout(() => reject(new Error('no close within 5 s')), 5000).unref();
  });
}

describe('safe WebSockets', () => {
  it('close a socket sent a message over the limit with 1009 and says the limit', async () => {
    expect(await closeOf((ws) => ws.send('x'.repeat(1025)))).toEqual({ code: 1009, reason: 'message too big: at most 1 KiB' });
  });

  it('close a socket whose handler threw with 1011; the server serves the next one', async () => {
    expect(await closeOf((ws) => ws.send('throw'))).toEqual({ code: 1011, reason: 'server error; the server log has the details' });
    const reply = await new Promise<string>((resolve) => {
      const ws = new WebSocket(base);
      ws.on('open', () => ws.send('still here?'));
      ws.on('message', (data) => {
        resolve(data.toString());
        ws.close();
      });
    });
    expect(reply).toBe('echo still here?');
  });

  it('cut a close reason too long for a close frame instead of throwing', async () => {
    const { code, reason } = await closeOf((ws) => ws.send('long reason'));
    expect(code).toBe(4400);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(reason).toMatch(/^—+\.\.\.$/);
  });

  it('closeReason keeps short reasons and cuts long ones on a character boundary', () => {
    expect(closeReason('no hello')).toBe('no hello');
    const cut = closeReason('é'.repeat(100));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut.endsWith('...')).toBe(true);
  });
});

describe('readCookie', () => {
  it('reads the named cookie, and a malformed one is no cookie', () => {
    expect(readCookie('a=1; irlab_session=abc%2D', 'irlab_session')).toBe('abc-');
    expect(readCookie('irlab_session=%zz', 'irlab_session')).toBeUndefined();
    expect(readCookie('irlab_session=%E0%A4%A', 'irlab_session')).toBeUndefined();
    expect(readCookie(undefined, 'irlab_session')).toBeUndefined();
  });
});
