/**
 * `npm run bench:drill`: 10 concurrent drills × 5 participants against the real built server, each
 * drill on its own real cluster from the server's warm pool. Prints figures; asserts nothing.
 * Method and results: docs/drills.md ("Figures").
 *
 * 1. Cluster preparation: the server starts with IRLAB_WARM_POOL_SIZE = drills; every drill is
 *    created at once and timed from `POST /api/drills` to `cluster.status == 'ready'` (claim +
 *    scenario seeding), and from the server's start to the last drill ready.
 * 2. Load: every participant joins (own learner cookie), opens `/ws/drills/<id>` and their drill
 *    terminal (`/ws/terminal/<id>`, docs/protocol.md), then for BENCH_SECONDS types a kubectl
 *    command one key at a time every few seconds (each key timed until its echo comes back) and
 *    posts a note every ~10 s (timed from the POST until each other participant's drill socket
 *    delivers it).
 * 3. The server process: CPU from /proc/<pid>/stat (utime+stime over the window, % of one core),
 *    RSS sampled each second from /proc/<pid>/status (steady = median in the window, peak =
 *    VmHWM); the same CPU figure for its descendants (shells, sandboxes) and, apart, for the drill
 *    clusters' processes (found by the cluster names the terminals report in their hello).
 * Env: BENCH_DRILLS (10), BENCH_PARTICIPANTS (5), BENCH_SECONDS (120), BENCH_PORT (4395),
 * BENCH_COMMAND_EVERY_MS (4000), BENCH_NOTE_EVERY_MS (10000).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startBuiltServer } from './built-server.ts';
import type { CreateDrillResponse, DrillServerMessage, DrillView, JoinDrillResponse } from '../src/lib/drill-view.ts';
import { decodeOutputFrame } from '../src/lib/terminal-protocol.ts';

const root = path.resolve(import.meta.dirname, '..');
const drills = Number(process.env.BENCH_DRILLS ?? 10);
const perDrill = Number(process.env.BENCH_PARTICIPANTS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 120);
const port = Number(process.env.BENCH_PORT ?? 4395);
const commandEveryMs = Number(process.env.BENCH_COMMAND_EVERY_MS ?? 4000);
const noteEveryMs = Number(process.env.BENCH_NOTE_EVERY_MS ?? 10_000);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'irlab-bench-drill-'));
const TICKS = 100; // USER_HZ on Linux

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
};
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a');

const serverStarted = performance.now();
// Every drill is created from this one address: BENCH_DRILLS may be past its cluster-start budget.
const { child: server, stop } = await startBuiltServer({ root, port, dataDir, env: { IRLAB_WARM_POOL_SIZE: String(drills), IRLAB_LIMIT_STARTS_PER_ADDRESS: '0' } });

// --- /proc readings -------------------------------------------------------------------------
/**
 * CPU ticks of a process; with `children`, plus those of its children that exited and were
 * waited for (so a shell counts the kubectl runs it started; summed over live processes only,
 * nothing is counted twice).
 */
function cpuTicks(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0); // utime, stime, cutime, cstime
  } catch {
    return 0;
  }
}
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}
/** Processes whose command line names one of these clusters (etcd, kube-apiserver, kwok...). */
function clusterPids(names: Set<string>): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if ([...names].some((cluster) => argv.includes(cluster))) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}
const clusterNames = new Set<string>();

/** The server and every process under it (shells, sandboxes). */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited while we looked
    }
  }
  const all: number[] = [];
  const walk = (p: number) => (all.push(p), (children.get(p) ?? []).forEach(walk));
  walk(pid);
  return all;
}

// --- HTTP and sockets -----------------------------------------------------------------------
async function api<T>(url: string, init: RequestInit & { cookie?: string; token?: string } = {}): Promise<{ body: T; cookie: string | null }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: base };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  // A reused keep-alive connection the server closed meanwhile fails before any answer: a read is
  // safe to send again (writes are not retried; a failed note is counted instead).
  let response: Response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await fetch(`${base}${url}`, { ...init, headers });
      break;
    } catch (error) {
      if ((init.method ?? 'GET') !== 'GET' || attempt >= 3) throw error;
      await sleep(200);
    }
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${body.error ?? ''}`);
  return { body, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? null };
}

interface Participant {
  name: string;
  cookie: string;
  drillId: string;
  /** Note marker → local time it was received on this participant's drill socket. */
  received: Map<string, number>;
  drillSocket: WebSocket;
  type: (data: string) => void;
  waitFor: (test: () => boolean, timeoutMs: number) => Promise<boolean>;
  output: () => string;
  terminal: WebSocket;
}

async function joinDrill(drill: DrillView, index: number): Promise<Participant> {
  const name = `bench-${drill.code}-${index}`;
  const joined = await api<JoinDrillResponse>('/api/drills/join', { method: 'POST', body: JSON.stringify({ code: drill.code, name, role: drill.roles[index % drill.roles.length] }) });
  const cookie = joined.cookie!;
  const received = new Map<string, number>();
  const drillSocket = new WebSocket(`ws://127.0.0.1:${port}/ws/drills/${drill.id}`, { headers: { cookie, origin: base } });
  drillSocket.on('message', (data) => {
    const message = JSON.parse(String(data)) as DrillServerMessage;
    if (message.type === 'entry') {
      const marker = /BENCH-NOTE-\S+/.exec(message.entry.body)?.[0];
      if (marker && !received.has(marker)) received.set(marker, performance.now());
    }
  });
  await new Promise((resolve, reject) => (drillSocket.once('open', resolve), drillSocket.once('error', reject)));
  drillSocket.send(JSON.stringify({ type: 'hello', afterSeq: 0 }));

  const { body: session } = await api<{ sessionId: string }>(`/api/drills/${drill.id}/terminal`, { method: 'POST', body: '{}', cookie });
  const terminal = new WebSocket(`ws://127.0.0.1:${port}/ws/terminal/${session.sessionId}`, { headers: { cookie, origin: base } });
  let output = '';
  let listeners: Array<() => void> = [];
  const decoder = new TextDecoder();
  terminal.on('message', (data, binary) => {
    if (!binary) {
      const hello = JSON.parse(String(data)) as { t: string; cluster?: string | null };
      if (hello.t === 'hello' && hello.cluster) clusterNames.add(hello.cluster);
      return;
    }
    const frame = decodeOutputFrame(new Uint8Array(data as Buffer));
    if (!frame) return;
    output = (output + decoder.decode(frame.data)).slice(-8192);
    terminal.send(JSON.stringify({ t: 'ack', seq: frame.seq }));
    for (const listener of listeners) listener();
  });
  await new Promise((resolve, reject) => (terminal.once('open', resolve), terminal.once('error', reject)));
  terminal.send(JSON.stringify({ t: 'hello', v: 1, clientId: `bench-${name}`, lastOutputSeq: 0, cols: 120, rows: 40 }));
  let seq = 0;
  const waitFor = (test: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (test()) return resolve(true);
      const timer = setTimeout(() => ((listeners = listeners.filter((l) => l !== listener)), resolve(false)), timeoutMs);
      const listener = () => test() && (clearTimeout(timer), (listeners = listeners.filter((l) => l !== listener)), resolve(true));
      listeners.push(listener);
    });
  return { name, cookie, drillId: drill.id, received, drillSocket, terminal, waitFor, output: () => output, type: (data) => terminal.send(JSON.stringify({ t: 'input', seq: ++seq, data })) };
}

// --- 1. Cluster preparation ----------------------------------------------------------------
const scenarios = (await api<Array<{ slug: string; roles: string[]; defaultDurationMinutes: number }>>('/api/drills/scenarios')).body;
if (!scenarios[0]) throw new Error('no scenario ships a drill.yaml');
const created = await Promise.all(
  Array.from({ length: drills }, async (_, i) => {
    const started = performance.now();
    const { body } = await api<CreateDrillResponse>('/api/drills', {
      method: 'POST',
      body: JSON.stringify({ scenario: scenarios[0]!.slug, title: `bench drill ${i + 1}`, durationMinutes: 120, roles: scenarios[0]!.roles }),
    });
    for (;;) {
      const { body: view } = await api<DrillView>(`/api/drills/${body.drill.id}`, { token: body.facilitatorToken });
      if (view.cluster.status === 'ready') return { ...body, drill: view, readyMs: performance.now() - started, readyAt: performance.now(), failed: null as string | null };
      if (view.cluster.status === 'failed') return { ...body, drill: view, readyMs: NaN, readyAt: NaN, failed: view.cluster.message.split('\n')[0]! };
      await sleep(500);
    }
  }),
);
// A cluster that fails to start (an overloaded machine can time its control plane out) is
// reported, and the load runs on the drills that did get one.
const failedDrills = created.filter((c) => c.failed);
const ready = created.filter((c) => !c.failed);
if (ready.length === 0) throw new Error(`no drill cluster became ready: ${failedDrills[0]?.failed}`);
const prepared = ready.map((c) => c.readyMs);
const allReadyS = (Math.max(...ready.map((c) => c.readyAt)) - serverStarted) / 1000;

// --- 2. Load ---------------------------------------------------------------------------------
const participants: Participant[] = [];
for (const c of ready) {
  // Terminals are locked until the clock starts: open them early, as a facilitator may, so every
  // shell is up before the clock (and the load) starts.
  await api(`/api/drills/${c.drill.id}/control`, { method: 'POST', body: JSON.stringify({ action: 'open-terminals' }), token: c.facilitatorToken });
  for (let i = 0; i < perDrill; i++) participants.push(await joinDrill(c.drill, i));
  await api(`/api/drills/${c.drill.id}/control`, { method: 'POST', body: JSON.stringify({ action: 'start' }), token: c.facilitatorToken });
}
await Promise.all(participants.map((p) => p.waitFor(() => /\$ $/.test(p.output()), 60_000)));

const echoLatencies: number[] = [];
const failedPosts: string[] = [];
const notes: Array<{ marker: string; drillId: string; author: string; postedAt: number }> = [];
const commands = ['kubectl get pods -A', 'kubectl get events -n production', 'kubectl auth can-i --list', 'kubectl get networkpolicy -A'];
const deadline = performance.now() + seconds * 1000;

async function typist(p: Participant, index: number) {
  await sleep((index * 397) % commandEveryMs);
  let n = 0;
  while (performance.now() < deadline) {
    const cycle = performance.now();
    for (const key of commands[n++ % commands.length]!) {
      const before = p.output().length;
      const sent = performance.now();
      p.type(key);
      if (await p.waitFor(() => p.output().length !== before && p.output().endsWith(key), 5_000)) echoLatencies.push(performance.now() - sent);
      await sleep(40 + Math.random() * 60);
    }
    p.type('\r');
    await sleep(Math.max(0, commandEveryMs - (performance.now() - cycle)));
  }
}
async function noter(p: Participant, index: number) {
  await sleep((index * 1103) % noteEveryMs);
  let n = 0;
  while (performance.now() < deadline) {
    const marker = `BENCH-NOTE-${p.name}-${n++}`;
    notes.push({ marker, drillId: p.drillId, author: p.name, postedAt: performance.now() });
    try {
      await api(`/api/drills/${p.drillId}/log`, { method: 'POST', body: JSON.stringify({ kind: 'note', text: `${marker} still looking` }), cookie: p.cookie });
    } catch (error) {
      failedPosts.push(`${marker}: ${(error as Error).message}`);
      notes.pop();
    }
    await sleep(noteEveryMs);
  }
}

const pid = server.pid!;
const clusterProcesses = clusterPids(clusterNames);
const ticks = (pids: number[]) => pids.reduce((sum, p) => sum + cpuTicks(p, true), 0);
const cpu0 = { server: cpuTicks(pid), tree: ticks(tree(pid)), clusters: ticks(clusterProcesses), at: performance.now() };
const rssSamples: number[] = [];
const benchCpu0 = process.cpuUsage();
const load0 = os.loadavg()[0]!;
const sampler = setInterval(() => rssSamples.push(memory(pid).rss), 1000);
await Promise.all(participants.flatMap((p, i) => [typist(p, i), noter(p, i)]));
clearInterval(sampler);
const windowS = (performance.now() - cpu0.at) / 1000;
const benchCpu = process.cpuUsage(benchCpu0);
const treePids = tree(pid);
const cpu1 = { server: cpuTicks(pid), tree: ticks(treePids), clusters: ticks(clusterProcesses) };
await sleep(2_000); // the last notes' deliveries

const messageLatencies: number[] = [];
let missing = 0;
for (const note of notes) {
  for (const other of participants.filter((p) => p.drillId === note.drillId && p.name !== note.author)) {
    const at = other.received.get(note.marker);
    if (at === undefined) missing++;
    else messageLatencies.push(at - note.postedAt);
  }
}
const mem = memory(pid);
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

console.log(`\nirlab drill load (${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version})`);
console.log(`${ready.length} drills × ${perDrill} participants, ${windowS.toFixed(0)} s window (load ${load0.toFixed(1)} at its start), a command every ${commandEveryMs / 1000} s and a note every ${noteEveryMs / 1000} s per participant`);
console.log(`cluster preparation (create → ready, claim + seed): p50 ${(percentile(prepared, 50) / 1000).toFixed(1)} s · max ${(Math.max(...prepared) / 1000).toFixed(1)} s; server start → all ${ready.length} ready: ${allReadyS.toFixed(1)} s`);
if (failedDrills.length) console.log(`clusters that failed to start: ${failedDrills.length} of ${drills} (${failedDrills[0]!.failed})`);
console.log(`server process CPU: ${(((cpu1.server - cpu0.server) / TICKS / windowS) * 100).toFixed(1)} % of one core`);
const percent = (t: number) => `${((t / TICKS / windowS) * 100).toFixed(1)} % of one core`;
console.log(`server + its ${treePids.length - 1} descendants (shells, sandboxes, the commands they ran): ${percent(cpu1.tree - cpu0.tree)}`);
console.log(`the ${clusterNames.size} drill clusters' ${clusterProcesses.length} processes (etcd, kube-apiserver, kwok, exec brokers): ${percent(cpu1.clusters - cpu0.clusters)}`);
console.log(`this benchmark's own client process: ${(((benchCpu.user + benchCpu.system) / 1e6 / windowS) * 100).toFixed(1)} % of one core`);
console.log(`server RSS: steady (median) ${mib(percentile(rssSamples, 50))} · peak (VmHWM) ${mib(mem.hwm)}`);
console.log(`drill log, post → received by the other participants: ${messageLatencies.length} deliveries, p50 ${ms(percentile(messageLatencies, 50))} · p95 ${ms(percentile(messageLatencies, 95))} · max ${ms(Math.max(...messageLatencies))} · missing ${missing}`);
if (failedPosts.length) console.log(`notes that failed to post: ${failedPosts.length} (first: ${failedPosts[0]})`);
console.log(`terminal keystroke → echo: ${echoLatencies.length} keys, p50 ${ms(percentile(echoLatencies, 50))} · p95 ${ms(percentile(echoLatencies, 95))}`);

for (const c of created) await api(`/api/drills/${c.drill.id}/control`, { method: 'POST', body: JSON.stringify({ action: 'end' }), token: c.facilitatorToken }).catch(() => {});
for (const p of participants) {
  p.terminal.close();
  p.drillSocket.close();
}
await stop();
