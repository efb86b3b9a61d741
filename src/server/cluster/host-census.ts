// What an embedded cluster holds on this machine, read from /proc: its
// processes (anything whose command line names the cluster's directory, plus
// a kwokctl still creating it), their memory, and the loopback ports that are
// listening. Used to reap orphans after a crash, and by the benchmark and
// tests to count what a cluster leaves behind.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { processState } from './runtime.ts';

export interface HostProcess {
  pid: number;
  /** argv joined by spaces. */
  command: string;
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** A file's text, or '' when it cannot be read. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/**
 * Live processes that belong to a cluster: their argv names `clusterDir`
 * (components, the pod sandbox supervisor, bubblewrap, pod commands), or
 * they are a kwokctl run for that cluster name in that work dir.
 */
export function clusterProcesses(clusterDir: string, name: string, workDir: string): HostProcess[] {
  const found: HostProcess[] = [];
  for (const pid of allPids()) {
    const argv = readProc(pid, 'cmdline').split('\0');
    const command = argv.join(' ').trim();
    if (!command || processState(pid) !== 'running') continue;
    const ownsDir = argv.some((arg) => arg.includes(`${clusterDir}/`) || arg.endsWith(clusterDir));
    const kwokctlRun =
      argv.some((arg) => arg === `--name=${name}`) && readProc(pid, 'environ').split('\0').includes(`KWOK_WORKDIR=${workDir}`);
    if (ownsDir || kwokctlRun) found.push({ pid, command });
  }
  return found;
}

/** Live processes whose argv or environment names `dir` anywhere (for leak counts). */
export function processesUnder(dir: string): HostProcess[] {
  return allPids()
    .filter((pid) => processState(pid) === 'running')
    .map((pid) => ({ pid, command: readProc(pid, 'cmdline').split('\0').join(' ').trim(), environ: readProc(pid, 'environ') }))
    .filter((p) => p.command.includes(dir) || p.environ.includes(dir))
    .map(({ pid, command }) => ({ pid, command }));
}

/** Resident set size of a process in bytes (0 once it is gone). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status'));
  return match ? Number(match[1]) * 1024 : 0;
}

export interface ProcessMemory {
  /** Resident set size: every page mapped, shared binary text included. */
  rss: number;
  /** Proportional set size: shared pages divided among the processes sharing them. */
  pss: number;
  /** Pages only this process maps. Binary text counts here while no other cluster runs. */
  private: number;
  /** Anonymous pages (heap, stacks): never shared between clusters, so what one more costs. */
  anonymous: number;
}

/** Memory of a process in bytes from /proc/<pid>/smaps_rollup (zeros once it is gone). */
export function processMemory(pid: number): ProcessMemory {
  const text = readProc(pid, 'smaps_rollup');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('Rss'), pss: kb('Pss'), private: kb('Private_Clean') + kb('Private_Dirty'), anonymous: kb('Anonymous') };
}

/** CPU time (user + system) a process has used, in clock ticks (100 per second on Linux). */
export function cpuTicks(pid: number): number {
  const stat = readProc(pid, 'stat');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/** The process start time (clock ticks since boot), to tell a pid from a reused one. */
export function processStartTicks(pid: number): number | null {
  const stat = readProc(pid, 'stat');
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19] ?? 0);
}

/**
 * TCP ports in LISTEN state on this machine (IPv4 and IPv6), each with the
 * pids holding the listening socket (empty when no visible process holds it).
 */
export function listeningPortOwners(): Map<number, number[]> {
  const byInode = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readText(file).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9]) byInode.set(cols[9], Number.parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  const owners = new Map<number, number[]>([...byInode.values()].map((port) => [port, []]));
  for (const pid of allPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const port = byInode.get(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '');
      if (port !== undefined && !owners.get(port)!.includes(pid)) owners.get(port)!.push(pid);
    }
  }
  return owners;
}

/**
 * Of `ports` (which a cluster under `dir` used), those still listening and
 * held by a process of `dir` or by no visible process. A port that another
 * user's process has since bound (this machine is shared) is not ours. A
 * holder can exit between reading the socket table and reading its fds, so a
 * port without a visible holder counts only if it still has none after
 * `recheckMs`.
 */
export async function portsStillHeld(
  ports: Iterable<number>,
  dir: string,
  recheckMs = 1_000,
): Promise<{ held: number[]; reusedByOthers: number[] }> {
  const scan = () => {
    const owners = listeningPortOwners();
    const ours = new Set(processesUnder(dir).map((p) => p.pid));
    const listening = [...new Set(ports)].filter((port) => owners.has(port));
    const held = listening.filter((port) => owners.get(port)!.length === 0 || owners.get(port)!.some((pid) => ours.has(pid)));
    return { held, reusedByOthers: listening.filter((port) => !held.includes(port)) };
  };
  const first = scan();
  if (!first.held.length) return first;
  await new Promise((resolve) => setTimeout(resolve, recheckMs));
  const second = scan();
  return { held: second.held.filter((port) => first.held.includes(port)), reusedByOthers: second.reusedByOthers };
}

/** TCP ports in LISTEN state on this machine. */
export function listeningPorts(): Set<number> {
  return new Set(listeningPortOwners().keys());
}

/** The TCP ports a cluster's components listen on, from kwokctl's saved configuration. */
export function clusterPorts(clusterDir: string): number[] {
  const text = readText(`${clusterDir}/kwok.yaml`);
  return [...new Set([...text.matchAll(/(?:port|Port): (\d+)\s*$/gm)].map((m) => Number(m[1])))].sort();
}
