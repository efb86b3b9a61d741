/**
 * `npm run bench:front-relay`: what one front costs per relayed terminal (src/server/front/
 * ws-relay.ts, the code a front runs for every learner's shell), at the scale of an event:
 * BENCH_RELAYS (default 1,000) browser sockets held open through one front process to one cell
 * process, on loopback. The "cell" here answers every frame by sending it back, as a shell's PTY
 * echoes a keystroke: it stands in for the cell's terminal so the figures are the relay's alone
 * (the real terminal through real fronts and cells is bench:cluster-scale's).
 *
 * Prints, in one run: the front's RSS before and with the relays open (and per relay), its CPU
 * while BENCH_TYPISTS (default 100) of them type 10 keystrokes a second, and the keystroke echo
 * p50/p95/max through the front compared with the same typists straight to the cell. Asserts
 * nothing. Three processes (this one, the front, the cell), so each one's figures are its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { relayUpgrade } from '../src/server/front/ws-relay.ts';
import { safeWebSocketServer } from '../src/server/http/ws-safety.ts';
import { percentile } from './percentile.ts';

const RELAYS = Number(process.env.BENCH_RELAYS ?? 1000);
const TYPISTS = Number(process.env.BENCH_TYPISTS ?? 100);
const TYPING_MS = Number(process.env.BENCH_TYPING_MS ?? 10_000);
const KEYSTROKE_EVERY_MS = 100;

const [, , role, arg] = process.argv;

/** Listens on a free loopback port, prints it as the first line of stdout. */
function listen(server: http.Server): void {
  server.listen(0, '127.0.0.1', () => console.log(String((server.address() as AddressInfo).port)));
}

function start(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}) before listening`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve({ child, port: Number(chunk.toString().trim()) }));
  });
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Opens `count` sockets, 50 at a time (as a class arriving, not one SYN flood). */
async function openMany(url: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => open(url)))));
  return sockets;
}

/** Each socket sends a keystroke every 100 ms for `ms` and times its echo; the round trips. */
async function type(sockets: WebSocket[], ms: number): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    sockets.map(async (ws, index) => {
      // Spread the typists over the interval, as people do not press keys in step.
      await new Promise((resolve) => setTimeout(resolve, (index * KEYSTROKE_EVERY_MS) / sockets.length));
      for (const end = performance.now() + ms; performance.now() < end; ) {
        const sent = performance.now();
        const echoed = new Promise<void>((resolve) => ws.once('message', () => resolve()));
        ws.send('k');
        await echoed;
        samples.push(performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, KEYSTROKE_EVERY_MS - (performance.now() - sent))));
      }
    }),
  );
  return samples.sort((a, b) => a - b);
}

const fmt = (samples: number[]) => `p50 ${percentile(samples, 50).toFixed(2)} ms · p95 ${percentile(samples, 95).toFixed(2)} ms · max ${samples.at(-1)!.toFixed(2)} ms (${samples.length} keystrokes)`;

async function drive(): Promise<void> {
  const cell = await start(['cell']);
  const front = await start(['front', String(cell.port)]);
  const sockets: WebSocket[] = [];
  try {
    console.log(`bench:front-relay · ${RELAYS} relayed sockets through one front process · ${TYPISTS} typists at ${1000 / KEYSTROKE_EVERY_MS} keys/s for ${TYPING_MS / 1000} s · node ${process.version}`);
    const idle = rssMiB(front.child.pid!);
    const opened = performance.now();
    sockets.push(...(await openMany(`ws://127.0.0.1:${front.port}/ws/terminal/bench`, RELAYS)));
    const openMs = performance.now() - opened;
    // Let the allocations of the opening burst settle before reading the resident size.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const held = rssMiB(front.child.pid!);
    console.log(`front RSS: ${idle.toFixed(1)} MiB idle · ${held.toFixed(1)} MiB holding ${RELAYS} relays · ${(((held - idle) * 1024) / RELAYS).toFixed(1)} KiB per relay · opened in ${(openMs / 1000).toFixed(1)} s`);

    const typists = sockets.slice(0, TYPISTS);
    const cpuBefore = cpuSeconds(front.child.pid!);
    const relayed = await type(typists, TYPING_MS);
    const cpu = cpuSeconds(front.child.pid!) - cpuBefore;
    console.log(`through the front: ${fmt(relayed)} · front CPU ${((cpu / (TYPING_MS / 1000)) * 100).toFixed(1)} % of a core`);
    const direct = await openMany(`ws://127.0.0.1:${cell.port}/ws/terminal/bench`, TYPISTS);
    sockets.push(...direct);
    console.log(`straight to the cell: ${fmt(await type(direct, TYPING_MS))}`);
  } finally {
    for (const ws of sockets) ws.terminate();
    front.child.kill();
    cell.child.kill();
  }
}

if (role === 'cell') {
  const server = http.createServer((_req, res) => res.end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  });
  listen(server);
} else if (role === 'front') {
  const cell = `ws://127.0.0.1:${arg}`;
  const wss = safeWebSocketServer(64 * 1024);
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    // The same limits front-proxy.ts gives a terminal's relay.
    relayUpgrade(req, socket, head, { wss, target: { url: `${cell}${req.url ?? '/'}`, headers: {} }, connectTimeoutMs: 10_000, maxBufferedBytes: 1024 * 1024, maxPayload: 1024 * 1024 });
  });
  listen(server);
} else {
  await drive();
}
