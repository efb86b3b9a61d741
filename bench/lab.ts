/**
 * `npm run bench:lab`: the L18 lab's numbers against the real built server (its warm pool,
 * embedded clusters, sandboxed shells). Prints figures; asserts nothing. Method and results:
 * docs/labs.md.
 *
 * 1. Start → shell prompt, warm: a new learner presses Start (POST /api/labs/l18/start: claim a
 *    ready cluster, seed the incident), then opens the terminal (POST /api/terminal/session, the
 *    WebSocket, `hello`) until bash's prompt arrives. Each run waits until the pool has refilled
 *    (the server logs every pool cluster it creates and claims), so every run claims warm.
 * 2. Check latency per step: BENCH_CHECKS sequential Check requests per step on each run's
 *    seeded cluster, timed at the client (HTTP included).
 * 3. The audit-policy live check: the lesson's policy written into the learner's workspace,
 *    Apply (the API server restarts with it), then Check step 1 (static grading, probes replayed,
 *    their levels read back from the audit log).
 * Env: BENCH_RUNS (5), BENCH_CHECKS (10), BENCH_PORT (4398).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startBuiltServer } from './built-server.ts';
import { decodeOutputFrame } from '../src/lib/terminal-protocol.ts';
import { L18_AUDIT_POLICY } from '../tests/e2e/l18-commands.ts';

const root = path.resolve(import.meta.dirname, '..');
const port = Number(process.env.BENCH_PORT ?? 4398);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const checksPerStep = Number(process.env.BENCH_CHECKS ?? 10);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'irlab-bench-lab-'));
const STEPS = ['audit-policy', 'contain', 'evidence', 'investigate', 'eradicate'];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (n: number) => `${Math.round(n)} ms`;
const seconds = (n: number) => `${(n / 1000).toFixed(2)} s`;

// The server, with its pool's events read off its output.
let created = 0;
let claimed = 0;
let prepared = 0;
const claims: Array<{ name: string; warm: boolean }> = [];
const { stop } = await startBuiltServer({
  root,
  port,
  dataDir,
  // Ten checks per step in a few seconds are past a learner's check budget: it measures latency, not budgets.
  env: { IRLAB_WARM_POOL_SIZE: '1', IRLAB_LIMIT_CHECKS_PER_LEARNER: '0', IRLAB_LIMIT_CHECKS_PER_ADDRESS: '0' },
  onLine: (line) => {
    if (/warm pool: \S+ ready in/.test(line)) created += 1;
    if (/lab l18: incident seeded ahead of time/.test(line)) prepared += 1;
    const claim = /warm pool: (\S+) claimed (warm|cold)/.exec(line);
    if (claim) {
      claimed += 1;
      claims.push({ name: claim[1]!, warm: claim[2] === 'warm' });
    }
  },
});

/** One learner: their cookie, their lab requests. */
function learner() {
  let cookie = '';
  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { origin: base, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    const data = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${String(data.error ?? JSON.stringify(data))}`);
    return data;
  };
  return { call, cookie: () => cookie };
}

/** Opens the learner's terminal over the protocol and resolves once bash's prompt is there. */
async function prompt(cookie: string): Promise<WebSocket> {
  const response = await fetch(`${base}/api/terminal/session`, { method: 'POST', headers: { cookie }, body: '{"cols":120,"rows":40}' });
  if (!response.ok) throw new Error(`terminal session: ${response.status} ${await response.text()}`);
  const { socketPath } = (await response.json()) as { socketPath: string };
  const ws = new WebSocket(`ws://127.0.0.1:${port}${socketPath}`, { headers: { cookie } });
  const decoder = new TextDecoder();
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no prompt after 60 s; the terminal said: ${output.slice(-300)}`)), 60_000);
    ws.on('message', (data, binary) => {
      if (!binary) return;
      const frame = decodeOutputFrame(new Uint8Array(data as Buffer));
      if (!frame) return;
      output += decoder.decode(frame.data);
      ws.send(JSON.stringify({ t: 'ack', seq: frame.seq }));
      if (output.includes('learner@irlab')) {
        clearTimeout(timer);
        resolve();
      }
    });
    ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, clientId: 'bench-lab', lastOutputSeq: 0, cols: 120, rows: 40 })));
    ws.once('error', reject);
  });
  return ws;
}

async function poolRefilled(): Promise<void> {
  for (let waited = 0; created - claimed < 1; waited += 200) {
    if (waited > 180_000) throw new Error('the warm pool did not refill within 3 minutes');
    await sleep(200);
  }
}

/** Waits until the server has seeded an L18 incident ahead of time for the next Start. */
async function shelfRefilled(starts: number): Promise<void> {
  for (let waited = 0; prepared < starts + 1; waited += 200) {
    if (waited > 180_000) throw new Error('no L18 incident was seeded ahead of time within 3 minutes');
    await sleep(200);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

// A first Start right after boot, while the server is still filling its pool and seeding its
// first incidents: reported, not counted.
const warmup = learner();
const [, coldStart] = await timed(() => warmup.call('POST', '/api/labs/l18/start'));
await warmup.call('POST', '/api/labs/l18/reset');

const startApi: number[] = [];
const startPrompt: number[] = [];
const checks = new Map<string, number[]>(STEPS.map((s) => [s, []]));
const applies: number[] = [];
const liveChecks: number[] = [];
let coldRuns = 0;
for (let run = 0; run < runs; run++) {
  await poolRefilled();
  await shelfRefilled(run + 1);
  const me = learner();
  const started = performance.now();
  await me.call('POST', '/api/labs/l18/start');
  startApi.push(performance.now() - started);
  const ws = await prompt(me.cookie());
  startPrompt.push(performance.now() - started);
  if (!claims.at(-1)?.warm) coldRuns += 1;

  for (const step of STEPS) {
    for (let i = 0; i < checksPerStep; i++) {
      const [, took] = await timed(() => me.call('POST', '/api/labs/l18/check', { step, answers: {} }));
      checks.get(step)!.push(took);
    }
  }

  const { id } = (await me.call('GET', '/api/me')) as { id: string };
  writeFileSync(path.join(dataDir, 'workspaces', id, 'audit-policy.yaml'), L18_AUDIT_POLICY);
  const [, applyTook] = await timed(() => me.call('POST', '/api/labs/l18/apply-policy'));
  applies.push(applyTook);
  const [view, liveTook] = await timed(() => me.call('POST', '/api/labs/l18/check', { step: 'audit-policy', answers: {} }));
  if (!view.passed) throw new Error(`the audit-policy check did not pass: ${JSON.stringify(view.result)}`);
  liveChecks.push(liveTook);

  ws.close();
  await me.call('POST', '/api/labs/l18/reset');
  process.stderr.write(`run ${run + 1}/${runs}: start → prompt ${seconds(startPrompt.at(-1)!)}, live check ${seconds(liveTook)}\n`);
}

const line = (label: string, values: number[], unit = ms) =>
  console.log(`${label.padEnd(34)} p50 ${unit(percentile(values, 50))} · p95 ${unit(percentile(values, 95))} · max ${unit(Math.max(...values))} (n=${values.length})`);
console.log(`\nirlab lab benchmark, L18 (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}, warm pool of 1)`);
console.log(`first Start right after boot: ${seconds(coldStart)} to the lab view; ${runs - coldRuns} of ${runs} measured runs claimed warm`);
line('Start → lab view (seeded ahead)', startApi, seconds);
line('Start → shell prompt', startPrompt, seconds);
for (const step of STEPS) line(`Check ${step}${step === 'audit-policy' ? ' (no policy yet)' : ''}`, checks.get(step)!);
line('Apply audit-policy.yaml (restart)', applies, seconds);
line('Check audit-policy, live', liveChecks, seconds);
console.log('targets: Check p95 ≤ 300 ms; audit-policy live check ≤ 8 s');
await stop();
