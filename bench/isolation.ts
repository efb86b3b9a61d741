/**
 * `npm run bench:isolation`: does one learner's shell leave the others alone? Two real sandboxed
 * shells (TerminalManager, bubblewrap, node-pty, bash; no cluster) on this host's real cgroups.
 * The neighbour's keystroke echo is timed idle, then while the other shell runs a fork bomb, then
 * a memory hog; for each attack, how fast its limit held (pids.max reached / first OOM kill,
 * read from the attacker's cgroup) and what that learner saw. Prints a table; asserts nothing.
 * Method and figures: docs/security.md.
 *
 * Needs root and writable cgroups (otherwise the attacks would be unbounded on a shared machine:
 * it refuses to run). Bounded: each phase stops after BENCH_PHASE_SECONDS, the whole run after
 * three minutes, and every session, cgroup, uid claim and mount is removed at the end.
 * Env: BENCH_KEYS (500 per phase), BENCH_PHASE_SECONDS (20).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeOutputFrame } from '../src/lib/terminal-protocol.ts';
import { readMountinfo } from '../src/server/terminal/mountinfo.ts';
import { spawnNodePty } from '../src/server/terminal/node-pty-spawn.ts';
import { prepareSandboxHost } from '../src/server/terminal/sandbox-host.ts';
import { TerminalManager } from '../src/server/terminal/session-manager.ts';
import type { TerminalConnection, TerminalSession } from '../src/server/terminal/session.ts';

const keys = Number(process.env.BENCH_KEYS ?? 500);
const phaseMs = Number(process.env.BENCH_PHASE_SECONDS ?? 20) * 1000;
const deadline = AbortSignal.timeout(180_000);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/** A browser stand-in attached to one session: output as text, every frame acknowledged, keys typed. */
function drive(session: TerminalSession, name: string) {
  let output = '';
  let bytes = 0;
  let seq = 0;
  const decoder = new TextDecoder();
  let listeners: Array<() => void> = [];
  const connection: TerminalConnection = {
    sendText: () => {},
    sendBinary: (frame) => {
      const decoded = decodeOutputFrame(frame);
      if (!decoded) return;
      bytes += decoded.data.byteLength;
      output = (output + decoder.decode(decoded.data)).slice(-64 * 1024);
      session.receive(connection, JSON.stringify({ t: 'ack', seq: decoded.seq }));
      for (const listener of listeners) listener();
    },
    close: () => {},
  };
  session.attach(connection, { t: 'hello', v: 1, clientId: `bench-${name}`, lastOutputSeq: 0, cols: 120, rows: 40 });
  /** Resolves when `test` holds, or false after `timeoutMs`. */
  const waitFor = (test: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (test()) return resolve(true);
      const timer = setTimeout(() => (listeners = listeners.filter((l) => l !== listener), resolve(false)), timeoutMs);
      const listener = () => {
        if (!test()) return;
        clearTimeout(timer);
        listeners = listeners.filter((l) => l !== listener);
        resolve(true);
      };
      listeners.push(listener);
    });
  const type = (data: string) => session.receive(connection, JSON.stringify({ t: 'input', seq: ++seq, data }));
  return { type, waitFor, output: () => output, bytes: () => bytes, clear: () => (output = '') };
}
type Driver = ReturnType<typeof drive>;

/** Times `count` keystrokes at the neighbour's prompt until each echo is back; misses count as 2 s. */
async function echoLatency(shell: Driver, count: number, until: number): Promise<{ p50: number; p95: number; max: number; n: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < count && Date.now() < until; i++) {
    if (i % 40 === 0) {
      shell.type('\x15'); // Ctrl+U: a fresh line, so each echo is one character
      await sleep(20);
    }
    const key = 'abcdefghijklmnopqrstuvwxyz'[i % 26]!;
    const before = shell.bytes();
    const started = performance.now();
    shell.type(key);
    const echoed = await shell.waitFor(() => shell.bytes() > before && shell.output().endsWith(key), 2_000);
    latencies.push(echoed ? performance.now() - started : 2_000);
    await sleep(5);
  }
  shell.type('\x15');
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1) ?? NaN, n: latencies.length };
}

/** The attacker's cgroup file `file` of `controller`, found from its launcher's /proc/<pid>/cgroup. */
function cgroupFile(pid: number, controller: 'pids' | 'memory', file: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes(controller));
  const mounts = readMountinfo();
  if (v1) {
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller))!;
    return path.join(mount.mountPoint, v1.split(':')[2]!, file);
  }
  const mount = mounts.find((m) => m.fsType === 'cgroup2')!;
  return path.join(mount.mountPoint, lines.find((line) => line.startsWith('0::'))!.slice(3), file);
}
const readNumber = (file: string, key?: string) => {
  const text = readFileSync(file, 'utf8');
  return Number(key ? (new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0) : text.trim());
};

/** Polls `test` every 2 ms; milliseconds until it held, or null past `timeoutMs`. */
async function timeUntil(test: () => boolean, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (test()) return performance.now() - started;
    await sleep(2);
  }
  return null;
}

/** Lines of the attacker's screen that tell what happened (the first distinct few). */
function seen(output: string, pattern: RegExp): string {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n/).map((l) => l.replace(/^.*?\$ /, '').trim()).filter((l) => pattern.test(l));
  return [...new Set(lines)].slice(0, 2).join(' / ') || '(nothing)';
}

const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-bench-isolation-'));
const host = prepareSandboxHost(path.join(root, 'data'));
if (!host.budgets.cgroups || !host.budgets.uids) {
  console.error(`bench:isolation needs root and writable cgroups (a fork bomb without them would hit everyone on this machine): ${host.budgets.problems.join('; ')}`);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
}
const manager = new TerminalManager({ dataDir: path.join(root, 'data'), host, spawnPty: spawnNodePty, leaseCluster: async () => null });
let cleaning: Promise<void> | null = null;
const cleanup = () =>
  (cleaning ??= (async () => {
    await manager.shutdown();
    rmSync(root, { recursive: true, force: true });
  })());
process.on('uncaughtException', (error) => {
  console.error(error);
  void cleanup().finally(() => process.exit(1));
});
deadline.addEventListener('abort', () => {
  console.error('bench:isolation: stopped after three minutes');
  void cleanup().finally(() => process.exit(1));
});

try {
  const neighbourSession = await manager.open('neighbour', { cols: 120, rows: 40 });
  const attackerSession = await manager.open('attacker', { cols: 120, rows: 40 });
  const neighbour = drive(neighbourSession, 'neighbour');
  const attacker = drive(attackerSession, 'attacker');
  await neighbour.waitFor(() => neighbour.output().includes('$ '), 10_000);
  await attacker.waitFor(() => attacker.output().includes('$ '), 10_000);
  const { pidsMax, memoryBytes } = host.budgets.limits;
  const pidsCurrent = cgroupFile(attackerSession.pid, 'pids', 'pids.current');
  const v1 = host.budgets.cgroups.version === 1;
  const oomFile = cgroupFile(attackerSession.pid, 'memory', v1 ? 'memory.oom_control' : 'memory.events');
  const peakFile = cgroupFile(attackerSession.pid, 'memory', v1 ? 'memory.max_usage_in_bytes' : 'memory.peak');

  const idle = await echoLatency(neighbour, keys, Date.now() + phaseMs);

  // Fork bomb: every bash forks two more in the background, forever.
  attacker.clear();
  const bombStarted = performance.now();
  attacker.type('bomb() { bomb | bomb & }; bomb\r');
  const bombContained = await timeUntil(() => readNumber(pidsCurrent) >= pidsMax, 10_000);
  const bombCpuStart = process.cpuUsage();
  const underBomb = await echoLatency(neighbour, keys, Date.now() + phaseMs);
  const bombHeld = readNumber(pidsCurrent);
  const bombSeen = seen(attacker.output(), /fork|Resource|retry/i);
  attacker.type('kill -9 -1\r'); // the builtin needs no fork: the learner's way out
  const bombCleared = await timeUntil(() => readNumber(pidsCurrent) <= 5, 10_000);
  const bombSeconds = (performance.now() - bombStarted) / 1000;
  const serverCpu = process.cpuUsage(bombCpuStart);

  // Memory hog: tail keeps a line with no end in memory, 4 GiB of it, again and again.
  await attacker.waitFor(() => attacker.output().includes('$ '), 5_000);
  attacker.clear();
  const oomBefore = readNumber(oomFile, 'oom_kill');
  attacker.type('while :; do head -c 4G /dev/zero | tail -n 1; done\r');
  const hogContained = await timeUntil(() => readNumber(oomFile, 'oom_kill') > oomBefore, 10_000);
  const underHog = await echoLatency(neighbour, keys, Date.now() + phaseMs);
  const oomKills = readNumber(oomFile, 'oom_kill') - oomBefore;
  const peakMiB = readNumber(peakFile) / 1024 / 1024;
  attacker.type('\x03'); // Ctrl+C ends the loop
  const hogSeen = seen(attacker.output(), /Killed/);
  const neighbourAlive = await (async () => {
    neighbour.type('echo "alive-$((40+2))"\r');
    return neighbour.waitFor(() => neighbour.output().includes('alive-42'), 5_000);
  })();

  const ms = (value: number | null) => (value === null ? 'not within 10 s' : `${value.toFixed(0)} ms`);
  const echo = (e: { p50: number; p95: number; max: number; n: number }) => `p50 ${e.p50.toFixed(2)} ms · p95 ${e.p95.toFixed(2)} ms · max ${e.max.toFixed(1)} ms (${e.n} keys)`;
  console.log(`\nirlab isolation benchmark (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}, cgroup v${host.budgets.cgroups.version}, pids.max ${pidsMax}, memory ${memoryBytes / 1024 / 1024} MiB)`);
  console.log('| phase | neighbour keystroke → echo | containment | the attacker sees |');
  console.log('|---|---|---|---|');
  console.log(`| idle | ${echo(idle)} | | |`);
  console.log(`| fork bomb | ${echo(underBomb)} | pids.max (${pidsMax}) reached in ${ms(bombContained)}; held at ${bombHeld}; \`kill -9 -1\` cleared it in ${ms(bombCleared)} | ${bombSeen} |`);
  console.log(`| memory hog (4 GiB, repeated) | ${echo(underHog)} | first OOM kill in ${ms(hogContained)} (the time to pipe ${memoryBytes / 1024 / 1024} MiB into tail); ${oomKills} OOM kills in the phase, all inside its cgroup; its memory peaked at ${peakMiB.toFixed(0)} MiB | ${hogSeen} |`);
  console.log(`server CPU during the bomb phase: ${((serverCpu.user + serverCpu.system) / 1000 / bombSeconds / 10).toFixed(1)} % of a core · neighbour still answering after both: ${neighbourAlive ? 'yes' : 'NO'} · server RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
} finally {
  await cleanup();
}
