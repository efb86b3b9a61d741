/**
 * `npm run bench:cluster-scale`: fronts and cells under simulated learners, on this machine. Starts
 * a throwaway PostgreSQL (scripts/postgres.sh), F fronts and C cells as real `serve.ts` processes
 * over the built site (loopback ports, one database, no warm pool, incidents seeded on Start), then
 * N learners, spread over the fronts round robin, at most `--concurrency` at once: each Starts L18
 * through its front (Start → running: the answer; Start → prompt: the shell's prompt through the
 * terminal WebSocket of the same front), types K keys through the front and K straight to its cell
 * (a header signed as a front signs it), in the same run. Placement: the placement row's time
 * against the moment the Start was sent, and a sample of direct `registry.place` calls against the
 * same database. At the end, with every learner's cluster up: each cell's learners and RSS (its
 * process and the process tree under it, `ps`), each front's RSS.
 * Flags: --fronts F (2) --cells C (2) --learners N (6) --keystrokes K (30) --concurrency P (2).
 * Prints figures; asserts nothing. Everything it starts is stopped, also on an error or Ctrl-C.
 * Needs the built site (`npm run build`), Debian's PostgreSQL and the embedded engine.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decodeOutputFrame } from '../src/lib/terminal-protocol.ts';
import { forwardSigner, FORWARD_HEADER } from '../src/server/cells/forward-auth.ts';
import { cellRegistry } from '../src/server/cells/registry.ts';
import { postgresStore } from '../src/server/store/postgres-store.ts';
import type { SqlValue } from '../src/server/store/sql-store.ts';
import { engineChecked, freePort, startRealServer, type RealServer } from '../tests/integration/hostile/real-server.ts';
import { percentile } from './percentile.ts';

const { values: flags } = parseArgs({
  options: {
    fronts: { type: 'string', default: '2' },
    cells: { type: 'string', default: '2' },
    learners: { type: 'string', default: '6' },
    keystrokes: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '2' },
  },
});
const count = (name: keyof typeof flags, min: number): number => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} ${flags[name]}: give a whole number of at least ${min}`);
  return value;
};
const FRONTS = count('fronts', 1);
const CELLS = count('cells', 1);
const LEARNERS = count('learners', 1);
const KEYSTROKES = count('keystrokes', 1);
const CONCURRENCY = count('concurrency', 1);
const PLACEMENT_SAMPLES = 50;
/** The colour codes around the prompt's parts. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const KEY = randomBytes(48).toString('base64');
const script = path.resolve(import.meta.dirname, '../scripts/postgres.sh');

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

async function call<T>(base: string, target: string, init: { body?: unknown; cookie?: string } = {}): Promise<{ status: number; body: T; cookie: string }> {
  const response = await fetch(`${base}${target}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: { origin: base, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.cookie ? { cookie: init.cookie } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(300_000),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text;
  return { status: response.status, body: (json ? JSON.parse(text) : { error: text.slice(0, 300) }) as T, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

/** The terminal protocol as the browser speaks it: output frames by seq, acks, numbered input, hello. */
class Terminal {
  output = '';
  lastSeq = 0;
  private inputSeq = 0;
  private ws: WebSocket | undefined;
  private readonly wakers: Array<() => void> = [];

  async connect(url: string, headers: Record<string, string>): Promise<void> {
    const ws = (this.ws = new WebSocket(url, { headers }));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const frame = decodeOutputFrame(new Uint8Array(data));
      if (!frame || frame.seq <= this.lastSeq) return;
      this.lastSeq = frame.seq;
      this.output += new TextDecoder().decode(frame.data);
      ws.send(JSON.stringify({ t: 'ack', seq: frame.seq }));
      for (const wake of this.wakers.splice(0)) wake();
    });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject), ws.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)))));
    ws.send(JSON.stringify({ t: 'hello', v: 1, clientId: `bench-${randomBytes(6).toString('hex')}`, lastOutputSeq: this.lastSeq, cols: 120, rows: 40 }));
  }

  /** Resolves when `test` holds for the output, woken by each frame (polling would round figures up). */
  async waitFor(what: string, test: (output: string) => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!test(this.output)) {
      if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; the screen ends ${JSON.stringify(this.output.slice(-300))}`);
      await new Promise<void>((resolve) => (this.wakers.push(resolve), setTimeout(resolve, 500)));
    }
  }

  type(data: string): void {
    this.ws!.send(JSON.stringify({ t: 'input', seq: ++this.inputSeq, data }));
  }

  /** Milliseconds from a keystroke to its echo (then rubbed out again). */
  async echo(): Promise<number> {
    const mark = String.fromCharCode(97 + Math.floor(Math.random() * 26));
    const from = this.output.length;
    const started = performance.now();
    this.type(mark);
    await this.waitFor('the echo', (output) => output.slice(from).includes(mark), 10_000);
    const ms = performance.now() - started;
    this.type('\u007f');
    return ms;
  }

  close(): void {
    this.ws?.close();
  }
}

interface Figures {
  placement: number[];
  running: number[];
  prompt: number[];
  echoFront: number[];
  echoDirect: number[];
}

async function learner(i: number, front: RealServer, cells: Map<string, RealServer>, query: <T>(sql: string, params: SqlValue[]) => Promise<T[]>, figures: Figures): Promise<{ cellId: string; running: number; prompt: number }> {
  const sentAt = Date.now();
  const t0 = performance.now();
  const started = await call<{ error?: string; run?: { cluster: string } }>(front.base, '/api/labs/l18/start', { body: {} });
  if (started.status !== 200) throw new Error(`learner ${i}: Start through ${front.base} answered ${started.status}: ${started.body.error}`);
  const running = performance.now() - t0;
  figures.running.push(running);
  const cookie = started.cookie;
  const opened = await call<{ socketPath: string; error?: string }>(front.base, '/api/terminal/session', { body: { cols: 120, rows: 40 }, cookie });
  if (opened.status !== 200) throw new Error(`learner ${i}: the terminal session answered ${opened.status}: ${opened.body.error}`);
  const viaFront = new Terminal();
  await viaFront.connect(`ws://127.0.0.1:${front.port}${opened.body.socketPath}`, { cookie, origin: front.base });
  // The sandbox's PS1 is `user@irlab:dir$ `.
  await viaFront.waitFor('the shell prompt', (output) => /@irlab.*[$#] $/.test(output.replaceAll(ANSI_COLOUR, '')), 120_000);
  const prompt = performance.now() - t0;
  figures.prompt.push(prompt);

  const me = await call<{ id?: string }>(front.base, '/api/me', { cookie });
  const [placed] = await query<{ cell_id: string; created_at: string }>('SELECT cell_id, created_at FROM placements WHERE run_id = ? AND learner_id = ?', [me.body.id ?? '', me.body.id ?? '']);
  if (!placed) throw new Error(`learner ${i} (${me.body.id}): no placement row`);
  figures.placement.push(Number(placed.created_at) - sentAt);

  for (let k = 0; k < KEYSTROKES; k++) figures.echoFront.push(await viaFront.echo());
  // The same shell straight to its cell, with a header signed as a front signs it.
  const cell = cells.get(placed.cell_id)!;
  const direct = new Terminal();
  direct.lastSeq = viaFront.lastSeq;
  const signer = forwardSigner({ key: KEY });
  await direct.connect(`ws://127.0.0.1:${cell.port}${opened.body.socketPath}`, { [FORWARD_HEADER]: signer.sign({ method: 'GET', path: opened.body.socketPath, learnerId: me.body.id!, cellId: placed.cell_id, address: '127.0.0.1' }) });
  for (let k = 0; k < KEYSTROKES; k++) figures.echoDirect.push(await direct.echo());
  direct.close();
  viaFront.close();
  return { cellId: placed.cell_id, running, prompt };
}

/** Reads `/proc/<pid>/smaps_rollup` fields in KiB (0 when the process is gone or not ours to read). */
function rollup(pid: number): { pss: number; anonymous: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pss: field('Pss'), anonymous: field('Anonymous') };
  } catch {
    return { pss: 0, anonymous: 0 };
  }
}

/**
 * Memory in MiB of a server process and of what it runs: the processes under it, and those whose
 * command line names its directory (kwokctl daemonizes a cluster's components, so they are
 * re-parented to PID 1 and only their paths say whose they are), with everything under those.
 * RSS counts shared pages (the engine's binaries) once per process; PSS shares them out; anonymous
 * memory is what a cluster adds (the figure docs/engine.md sizes by).
 */
function memoryOf(pid: number, directory?: string): { own: number; ownAnonymous: number; rss: number; pss: number; anonymous: number; processes: number } {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss=,args='], { encoding: 'utf8', maxBuffer: 16 << 20 })
    .trim()
    .split('\n')
    .map((line) => {
      const [p, parent, kib, ...args] = line.trim().split(/\s+/);
      return { pid: Number(p), parent: Number(parent), kib: Number(kib), args: args.join(' ') };
    });
  const children = new Map<number, number[]>();
  for (const row of rows) children.set(row.parent, [...(children.get(row.parent) ?? []), row.pid]);
  const queue = [pid, ...(directory ? rows.filter((row) => row.pid !== pid && row.args.includes(directory)).map((row) => row.pid) : [])];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const p = queue.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    queue.push(...(children.get(p) ?? []));
  }
  const kib = new Map(rows.map((row) => [row.pid, row.kib]));
  let rss = 0;
  let pss = 0;
  let anonymous = 0;
  for (const p of seen) {
    rss += kib.get(p) ?? 0;
    const r = rollup(p);
    pss += r.pss;
    anonymous += r.anonymous;
  }
  return { own: (kib.get(pid) ?? 0) / 1024, ownAnonymous: rollup(pid).anonymous / 1024, rss: rss / 1024, pss: pss / 1024, anonymous: anonymous / 1024, processes: seen.size };
}

const cluster = mkdtempSync(path.join(tmpdir(), 'irlab-bench-scale-postgres-'));
const servers: RealServer[] = [];
let postgresStarted = false;
let cleaned: Promise<void> | undefined;
/** Stops the servers (each deletes its clusters on SIGTERM), then PostgreSQL; once, whatever called it. */
function cleanUp(): Promise<void> {
  cleaned ??= (async () => {
    for (const server of servers.splice(0).reverse()) await server.stop().catch((error: unknown) => console.error(`stopping ${server.base}: ${String(error)}`));
    if (postgresStarted) execFileSync('bash', [script, 'stop', cluster], { stdio: 'inherit' });
    rmSync(cluster, { recursive: true, force: true });
  })();
  return cleaned;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  const t = performance.now();
  const url = execFileSync('bash', [script, 'start', cluster], { encoding: 'utf8' }).trim();
  postgresStarted = true;
  const store = postgresStore({ url, max: 4 });
  const query = async <T>(sql: string, params: SqlValue[]) => store.all<T>(sql, params);
  const shared = {
    IRLAB_DATABASE_URL: url,
    IRLAB_CELL_FORWARD_KEY: KEY,
    // Every learner comes from 127.0.0.1: the per-address budgets would refuse the bench's own.
    IRLAB_LIMIT_STARTS_PER_ADDRESS: '10000',
    IRLAB_LIMIT_CHECKS_PER_ADDRESS: '10000',
    IRLAB_WARM_POOL_SIZE: '0',
    IRLAB_LAB_PREPARED: '0',
  };
  const cells = new Map<string, RealServer>();
  // One at a time: the first migrates, the others find the tables.
  for (let c = 0; c < CELLS; c++) {
    const port = await freePort();
    const id = `cell-${c}`;
    const cell = await startRealServer({ ...shared, PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: `http://127.0.0.1:${port}`, IRLAB_CELL_CAPACITY: String(LEARNERS + PLACEMENT_SAMPLES) });
    servers.push(cell);
    cells.set(id, cell);
  }
  const fronts: RealServer[] = [];
  for (let f = 0; f < FRONTS; f++) {
    const front = await startRealServer({ ...shared, IRLAB_ROLE: 'front' });
    servers.push(front);
    fronts.push(front);
  }
  await until('every cell live in the registry', async () => ((await query<{ id: string }>("SELECT id FROM cells WHERE state = 'live'", [])).length === CELLS ? true : undefined), 60_000);
  for (const cell of cells.values()) await engineChecked(cell, 120_000);
  console.log(`${FRONTS} fronts, ${CELLS} cells and PostgreSQL up in ${((performance.now() - t) / 1000).toFixed(1)} s; ${LEARNERS} learners, ${CONCURRENCY} at once, ${KEYSTROKES} keystrokes each way`);

  const figures: Figures = { placement: [], running: [], prompt: [], echoFront: [], echoDirect: [] };
  const hosted = new Map<string, number>();
  let next = 0;
  const wall = performance.now();
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, LEARNERS) }, async () => {
    for (let i = next++; i < LEARNERS; i = next++) {
      const { cellId, running, prompt } = await learner(i, fronts[i % FRONTS]!, cells, query, figures);
      hosted.set(cellId, (hosted.get(cellId) ?? 0) + 1);
      console.log(`  learner ${i + 1}/${LEARNERS}: ${cellId}, running ${(running / 1000).toFixed(1)} s, prompt ${(prompt / 1000).toFixed(1)} s`);
    }
  }));
  const wallSeconds = (performance.now() - wall) / 1000;

  // With every learner's cluster up.
  const memory = [...cells.entries()].map(([id, cell]) => ({ id, learners: hosted.get(id) ?? 0, ...memoryOf(cell.child.pid!, path.dirname(cell.dataDir)) }));
  const frontMemory = fronts.map((front) => memoryOf(front.child.pid!).own);

  // Placement alone, against the same database: learners that never Start, released again.
  const registry = cellRegistry({ store });
  const direct: number[] = [];
  for (let i = 0; i < PLACEMENT_SAMPLES; i++) {
    const id = `bench-probe-${i}`;
    const s = performance.now();
    await registry.place(id, id);
    direct.push(performance.now() - s);
  }
  for (let i = 0; i < PLACEMENT_SAMPLES; i++) await registry.release(`bench-probe-${i}`);
  await store.close();

  const row = (label: string, xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const fmt = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(1)} ms`).padStart(10);
    console.log(`  ${label.padEnd(52)} p50 ${fmt(percentile(sorted, 50))}  p95 ${fmt(percentile(sorted, 95))}  (n=${xs.length})`);
  };
  console.log(`\nfronts and cells on one machine (${FRONTS} fronts, ${CELLS} cells, ${LEARNERS} learners in ${wallSeconds.toFixed(0)} s)`);
  row('placement: Start sent → placement row (front clock)', figures.placement);
  row('placement: registry.place, direct to the database', direct);
  row('Start → running (through a front)', figures.running);
  row('Start → shell prompt (through a front)', figures.prompt);
  row('keystroke echo through a front', figures.echoFront);
  row('keystroke echo straight to the cell', figures.echoDirect);
  const mib = (x: number) => `${x.toFixed(0)} MiB`;
  for (const m of memory) {
    // Per learner: what the cell holds beyond its own process (the cluster, the shell's sandbox).
    const per = m.learners ? `; per learner beyond serve.ts: anonymous ${mib((m.anonymous - m.ownAnonymous) / m.learners)}` : '';
    console.log(`  ${m.id}: ${m.learners} learners; serve.ts RSS ${mib(m.own)} (anonymous ${mib(m.ownAnonymous)}); with its ${m.processes - 1} other processes RSS ${mib(m.rss)}, PSS ${mib(m.pss)}, anonymous ${mib(m.anonymous)}${per}`);
  }
  frontMemory.forEach((own, f) => console.log(`  front ${f}: RSS ${mib(own)}`));
  console.log(`  load average at the end: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
} finally {
  await cleanUp();
}
