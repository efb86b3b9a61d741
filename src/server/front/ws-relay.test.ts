// The relay on real loopback sockets: a "cell" WebSocket server, a front whose upgrades go through
// relayUpgrade, and a browser-like client.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { safeWebSocketServer } from '../http/ws-safety.ts';
import { relayUpgrade, type Relay } from './ws-relay.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return (server.address() as AddressInfo).port;
};

/** A cell: records each connection's forwarded header and hands the socket to the test. */
async function cell(onConnection: (ws: WebSocket, header: string | undefined) => void, status?: number) {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if (status) return socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\n\r\n`);
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req.headers['x-irlab-forward'] as string | undefined));
  });
  const port = await listen(server);
  closers.push(async () => wss.clients.forEach((ws) => ws.terminate()));
  return `ws://127.0.0.1:${port}`;
}

async function front(cellUrl: string, options: { maxBufferedBytes?: number; signal?: AbortSignal } = {}) {
  const server = createServer();
  const wss = safeWebSocketServer(4 << 20);
  const relays: Relay[] = [];
  server.on('upgrade', (req, socket, head) => {
    relays.push(relayUpgrade(req, socket, head, {
      wss,
      target: { url: `${cellUrl}${req.url}`, headers: { 'x-irlab-forward': 'signed' } },
      connectTimeoutMs: 5_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1 << 20,
      maxPayload: 4 << 20,
      ...(options.signal ? { signal: options.signal } : {}),
    }));
  });
  const port = await listen(server);
  closers.push(async () => wss.clients.forEach((ws) => ws.terminate()));
  return { url: `ws://127.0.0.1:${port}`, relays };
}

const open = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
const nextMessage = (ws: WebSocket) => new Promise<{ data: Buffer; binary: boolean }>((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })));
const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
async function until(condition: () => boolean, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the front relay', () => {
  it('carries text and binary frames both ways, with the forward header, to the path asked for', async () => {
    let seen: { header: string | undefined; ws: WebSocket } | undefined;
    const cellUrl = await cell((ws, header) => {
      seen = { header, ws };
      ws.on('message', (data, binary) => ws.send(data, { binary }));
    });
    const { url } = await front(cellUrl);
    const browser = await open(`${url}/ws/terminal/abc`);
    browser.send('{"t":"hello"}');
    expect(await nextMessage(browser)).toEqual({ data: Buffer.from('{"t":"hello"}'), binary: false });
    browser.send(Buffer.from([0, 1, 2, 255]));
    expect(await nextMessage(browser)).toEqual({ data: Buffer.from([0, 1, 2, 255]), binary: true });
    expect(seen?.header).toBe('signed');
    browser.close();
  });

  it("passes the cell's close code and reason to the browser, and the browser's to the cell", async () => {
    const cells: WebSocket[] = [];
    const cellUrl = await cell((ws) => cells.push(ws));
    const { url, relays } = await front(cellUrl);
    const first = await open(`${url}/a`);
    await until(() => cells.length === 1, 'the cell connection');
    const browserSees = closed(first);
    cells[0]!.close(4004, 'session gone');
    expect(await browserSees).toEqual({ code: 4004, reason: 'session gone' });

    const second = await open(`${url}/b`);
    await until(() => cells.length === 2, 'the second cell connection');
    const cellSees = closed(cells[1]!);
    second.close(4000, 'bye');
    expect(await cellSees).toEqual({ code: 4000, reason: 'bye' });
    await Promise.all(relays.map((r) => r.done));
  });

  it('refuses the upgrade with 502 when the cell is down, and with the cell\'s own 4xx when it refuses', async () => {
    const down = createServer();
    const port = await listen(down);
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const toDown = await front(`ws://127.0.0.1:${port}`);
    await expect(open(`${toDown.url}/x`)).rejects.toThrow('HTTP 502');

    const refusing = await front(await cell(() => undefined, 403));
    await expect(open(`${refusing.url}/x`)).rejects.toThrow('HTTP 403');
  });

  it('stops reading the cell while the browser does not read (bounded front memory), then delivers every frame in order', async () => {
    let cellSide: WebSocket | undefined;
    const cellUrl = await cell((ws) => (cellSide = ws));
    const { url, relays } = await front(cellUrl, { maxBufferedBytes: 256 * 1024 });
    const browser = await open(`${url}/flood`);
    browser.pause();
    await until(() => cellSide !== undefined, 'the cell connection');
    const frames = 48;
    const frame = Buffer.alloc(1 << 20);
    for (let i = 0; i < frames; i++) cellSide!.send(Buffer.from(frame.fill(i)), { binary: true });
    await until(() => relays[0]!.stats().cellPaused, 'the front to stop reading the cell');
    // What the front holds: the limit, plus the frame that crossed it.
    expect(relays[0]!.stats().toBrowserBytes).toBeLessThanOrEqual(256 * 1024 + (1 << 20));
    expect(cellSide!.bufferedAmount).toBeGreaterThan(16 << 20);
    const received: number[] = [];
    browser.on('message', (data: Buffer) => received.push(data[0]!));
    browser.resume();
    await until(() => received.length === frames, 'every frame');
    expect(received).toEqual([...Array(frames).keys()]);
    browser.close();
  }, 30_000);

  it('closes both sides with 1001 when the front stops, so the browser reconnects', async () => {
    const cells: WebSocket[] = [];
    const cellUrl = await cell((ws) => cells.push(ws));
    const stopping = new AbortController();
    const { url } = await front(cellUrl, { signal: stopping.signal });
    const browser = await open(`${url}/s`);
    await until(() => cells.length === 1, 'the cell connection');
    const browserSees = closed(browser);
    const cellSees = closed(cells[0]!);
    stopping.abort();
    expect((await browserSees).code).toBe(1001);
    expect((await cellSees).code).toBe(1001);
    await expect(open(`${url}/after`)).rejects.toThrow('HTTP 503');
  });

  it('tells the browser 1001 when the cell is lost without a close frame', async () => {
    const cells: WebSocket[] = [];
    const cellUrl = await cell((ws) => cells.push(ws));
    const { url } = await front(cellUrl);
    const browser = await open(`${url}/lost`);
    await until(() => cells.length === 1, 'the cell connection');
    const browserSees = closed(browser);
    cells[0]!.terminate();
    expect((await browserSees).code).toBe(1001);
  });

  it('closes a socket that sends an oversized frame with 1009, on either side, and goes on relaying for others', async () => {
    const cells: WebSocket[] = [];
    const cellUrl = await cell((ws) => cells.push(ws));
    const { url } = await front(cellUrl);
    // The browser's frame over the front's limit: that browser is closed, its cell connection too.
    const greedy = await open(`${url}/greedy`);
    await until(() => cells.length === 1, 'the cell connection');
    const greedySees = closed(greedy);
    const cellSees = closed(cells[0]!);
    greedy.send(Buffer.alloc((4 << 20) + 1));
    expect((await greedySees).code).toBe(1009);
    // The cell hears that the browser went away (its session waits for a reconnect), not the frame.
    expect((await cellSees).code).toBe(1001);
    // The cell's frame over the front's limit for cells: the browser hears the relay end, with a code.
    const victim = await open(`${url}/victim`);
    await until(() => cells.length === 2, 'the second cell connection');
    const victimSees = closed(victim);
    cells[1]!.send(Buffer.alloc((4 << 20) + 1));
    expect([1001, 1009]).toContain((await victimSees).code);
    // The front still relays.
    const next = await open(`${url}/next`);
    await until(() => cells.length === 3, 'the third cell connection');
    cells[2]!.send('still here');
    expect((await nextMessage(next)).data.toString()).toBe('still here');
    next.close();
  }, 30_000);
});
