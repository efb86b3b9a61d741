/**
 * `npm run bench:terminal`: the browser terminal's numbers, against the real built server and a
 * real sandboxed shell (no cluster needed). Prints figures; asserts nothing. Method and results:
 * docs/terminal.md.
 *
 * 1. Keystroke-to-echo latency over loopback: a WebSocket client (the `ws` package, speaking the
 *    same protocol as the island) sends one character at a time at bash's prompt and times until
 *    readline's echo of that character comes back as an output frame. p50/p95 over N keys.
 * 2. Output throughput, server → client: `cat` of a generated file, client acknowledging as the
 *    browser does; MB/s from Enter to the end marker, with the server's RSS and output memory.
 * 3. Output throughput to the browser: the same in Debian's Chromium through the Terminal island
 *    (xterm.js parsing and rendering included).
 * Env: BENCH_KEYS (300), BENCH_MB (20), BENCH_PORT (4399), BENCH_BROWSER (1; 0 to skip).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import WebSocket from 'ws';
import { decodeOutputFrame } from '../src/lib/terminal-protocol.ts';

const root = path.resolve(import.meta.dirname, '..');
const operatorToken = randomBytes(18).toString('base64url');
const port = Number(process.env.BENCH_PORT ?? 4399);
const keys = Number(process.env.BENCH_KEYS ?? 300);
const megabytes = Number(process.env.BENCH_MB ?? 20);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'irlab-bench-terminal-'));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const server = spawn(process.execPath, [path.join(root, 'src/server/app/serve.ts')], {
  cwd: root,
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', IRLAB_DATA_DIR: dataDir, IRLAB_TERMINAL_CLUSTER: 'none', IRLAB_INSTRUCTOR_TOKEN: operatorToken },
  stdio: ['ignore', 'inherit', 'inherit'],
});
async function health(): Promise<{ memory: { rss: number }; terminal: { peakRetainedOutputBytes: number } }> {
  // Memory and terminal counts are for the instructor token only.
  return (await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${operatorToken}` } })).json() as never;
}
for (let i = 0; ; i++) {
  try {
    await health();
    break;
  } catch {
    if (i > 100) throw new Error('the server did not start; run `npm run build` first');
    await sleep(100);
  }
}

/** A protocol client: one session, raw output as text, acknowledging every frame like the island. */
async function connect() {
  const response = await fetch(`${base}/api/terminal/session`, { method: 'POST', body: '{"cols":120,"rows":40}' });
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const { socketPath } = (await response.json()) as { socketPath: string };
  const ws = new WebSocket(`ws://127.0.0.1:${port}${socketPath}`, { headers: { cookie } });
  let output = '';
  let bytes = 0;
  let listeners: Array<() => void> = [];
  let seq = 0;
  const decoder = new TextDecoder();
  ws.on('message', (data, binary) => {
    if (!binary) return;
    const frame = decodeOutputFrame(new Uint8Array(data as Buffer));
    if (!frame) return;
    bytes += frame.data.byteLength;
    output = (output + decoder.decode(frame.data)).slice(-4096);
    ws.send(JSON.stringify({ t: 'ack', seq: frame.seq }));
    for (const listener of listeners) listener();
  });
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ t: 'hello', v: 1, clientId: 'bench-client', lastOutputSeq: 0, cols: 120, rows: 40 }));
  const waitFor = (test: () => boolean) =>
    new Promise<void>((resolve) => {
      if (test()) return resolve();
      const listener = () => test() && (listeners = listeners.filter((l) => l !== listener), resolve());
      listeners.push(listener);
    });
  const type = (data: string) => ws.send(JSON.stringify({ t: 'input', seq: ++seq, data }));
  return { ws, type, waitFor, output: () => output, bytes: () => bytes, cookie };
}

process.on('uncaughtException', (error) => {
  console.error(error);
  server.kill('SIGTERM');
  process.exitCode = 1;
});
const shell = await connect();
await shell.waitFor(() => shell.output().includes('$ '));

// 1. Echo latency.
const latencies: number[] = [];
for (let i = 0; i < keys; i++) {
  if (i % 40 === 0) {
    shell.type('\x15'); // Ctrl+U: start a fresh line so echoes stay single characters
    await sleep(20);
  }
  const key = 'abcdefghijklmnopqrstuvwxyz'[i % 26]!;
  const before = shell.bytes();
  const started = performance.now();
  shell.type(key);
  await shell.waitFor(() => shell.bytes() > before && shell.output().endsWith(key));
  latencies.push(performance.now() - started);
  await sleep(5);
}
shell.type('\x15');
latencies.sort((a, b) => a - b);
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
console.log(`\nirlab terminal benchmark (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version})`);
console.log(`keystroke → echo over loopback, ${keys} keys: p50 ${percentile(latencies, 50).toFixed(2)} ms · p95 ${percentile(latencies, 95).toFixed(2)} ms · max ${latencies.at(-1)!.toFixed(2)} ms (target p95 ≤ 20 ms)`);

// 2. Throughput to a protocol client.
const lines = Math.ceil((megabytes * 1e6) / 100);
shell.type(`yes "$(printf '%099d' 0)" | head -n ${lines} > big.txt; echo "MADE-$((1+1))"\r`);
await shell.waitFor(() => shell.output().includes('MADE-2'));
const rssBefore = (await health()).memory.rss;
let rssPeak = rssBefore;
const sampler = setInterval(() => void health().then((h) => (rssPeak = Math.max(rssPeak, h.memory.rss))), 100);
const startBytes = shell.bytes();
const catStarted = performance.now();
shell.type(`cat big.txt; echo "CAT-$((40+2))"\r`);
await shell.waitFor(() => shell.output().includes('CAT-42'));
const catSeconds = (performance.now() - catStarted) / 1000;
const catBytes = shell.bytes() - startBytes;
clearInterval(sampler);
const held = (await health()).terminal.peakRetainedOutputBytes;
console.log(`output to a protocol client: ${(catBytes / 1e6 / catSeconds).toFixed(1)} MB/s (${(catBytes / 1e6).toFixed(1)} MB in ${catSeconds.toFixed(2)} s)`);
console.log(`server during the cat: RSS ${mb(rssBefore)} → peak ${mb(rssPeak)} MiB · output held at most ${(held / 1024).toFixed(0)} KiB`);

// 3. Throughput into the browser (xterm.js parsing and rendering).
let browserLine = 'skipped (BENCH_BROWSER=0)';
if (process.env.BENCH_BROWSER !== '0') {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${base}/terminal`);
  await page.getByTestId('terminal-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
  await page.locator('.terminal-screen').click();
  // Its own learner and workspace (sharing the cookie would take the protocol client's session over).
  await page.keyboard.type(`yes "$(printf '%099d' 0)" | head -n ${lines} > big.txt; echo "MADE-$((2+1))"`);
  await page.keyboard.press('Enter');
  await page.locator('.xterm-rows', { hasText: 'MADE-3' }).waitFor({ timeout: 60_000 });
  await page.keyboard.type('clear; cat big.txt; echo "BROWSER-$((40+2))"');
  const started = performance.now();
  await page.keyboard.press('Enter');
  await page.locator('.xterm-rows', { hasText: 'BROWSER-42' }).waitFor({ timeout: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  browserLine = `${((lines * 100) / 1e6 / seconds).toFixed(1)} MB/s (${((lines * 100) / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s)`;
  await browser.close();
}

console.log(`output to the browser (xterm.js in Chromium): ${browserLine}`);

shell.ws.close();
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
rmSync(dataDir, { recursive: true, force: true });
