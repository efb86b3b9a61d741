// The warm-pool half of `npm run bench:engine` (bench/engine.ts runs it):
// claim latency, the footprint of an idle cluster and how many fit on this
// machine, seeding a scenario on a claimed cluster, and create/delete cycles
// counted for leaks (processes, listening ports, directories).

import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { EmbeddedProvider } from '../src/server/cluster/embedded-provider.ts';
import { clusterPorts, clusterProcesses, cpuTicks, listeningPortOwners, portsStillHeld, processesUnder, processMemory } from '../src/server/cluster/host-census.ts';
import { PodRuntime } from '../src/server/cluster/pod-runtime.ts';
import type { ClusterInfo } from '../src/server/cluster/types.ts';
import { WarmPool } from '../src/server/cluster/warm-pool.ts';
import { loadScenario } from '../src/server/scenarios/load.ts';
import { seedScenario } from '../src/server/scenarios/seed.ts';

const run = promisify(execFile);
const log = (line: string) => process.stderr.write(`${line}\n`);
const MiB = (bytes: number) => Math.round(bytes / 2 ** 20);

export interface Footprint {
  processes: number;
  /** Sum of VmRSS over all of the cluster's processes (shared binary text counted in each). */
  rssMiB: number;
  /** Sum of PSS: shared pages split among the processes (and clusters) that map them. */
  pssMiB: number;
  /** Sum of anonymous memory (heaps): what each additional cluster costs. */
  anonMiB: number;
  /** CPU used while idle, percent of one core, over `idleSeconds`. */
  idleCpuPercent: number;
  idleSeconds: number;
}

/** Measures an idle cluster: memory now, CPU over the next `seconds`. */
export async function footprint(provider: EmbeddedProvider, cluster: ClusterInfo, seconds: number): Promise<Footprint> {
  const procs = clusterProcesses(cluster.dir, cluster.name, provider.workDir);
  const ticks = () => procs.reduce((sum, p) => sum + cpuTicks(p.pid), 0);
  const start = ticks();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpuSeconds = (ticks() - start) / 100;
  const elapsed = (performance.now() - t0) / 1000;
  const mem = procs.map((p) => processMemory(p.pid));
  return {
    processes: procs.length,
    rssMiB: MiB(mem.reduce((s, m) => s + m.rss, 0)),
    pssMiB: MiB(mem.reduce((s, m) => s + m.pss, 0)),
    anonMiB: MiB(mem.reduce((s, m) => s + m.anonymous, 0)),
    idleCpuPercent: Math.round((cpuSeconds / elapsed) * 1000) / 10,
    idleSeconds: Math.round(elapsed),
  };
}

export interface FitEstimate {
  byMemory: number;
  byCpu: number;
  fits: number;
  how: string;
}

/**
 * Idle clusters that fit: memory = (RAM - 2 GiB for the OS and irlab - the
 * binaries' text, mapped once and shared) / anonymous memory per cluster;
 * CPU = 70 % of all cores (headroom for the clusters learners are using) /
 * idle CPU per cluster. The smaller one is the answer.
 */
export function estimateFit(fp: Pick<Footprint, 'anonMiB' | 'idleCpuPercent'>, sharedTextMiB: number): FitEstimate {
  const memMiB = totalmem() / 2 ** 20;
  const byMemory = Math.floor((memMiB - 2048 - sharedTextMiB) / Math.max(1, fp.anonMiB));
  const byCpu = Math.floor((cpus().length * 100 * 0.7) / Math.max(0.1, fp.idleCpuPercent));
  return {
    byMemory,
    byCpu,
    fits: Math.min(byMemory, byCpu),
    how: `memory: (${Math.round(memMiB)} MiB - 2048 reserved - ${sharedTextMiB} shared text) / ${fp.anonMiB} MiB anon; cpu: ${cpus().length} cores x 70 % / ${fp.idleCpuPercent} %`,
  };
}

export interface PoolFigures {
  claimMs: number[];
  claimWarm: boolean[];
  refillMs: number;
  footprint: Footprint;
  fit: FitEstimate;
  seedMs: number;
  seedPhasesMs: Record<string, number>;
}

export async function benchPool(workDir: string, stateDir: string, idleSeconds: number): Promise<PoolFigures> {
  const provider = new EmbeddedProvider({ workDir });
  const pool = await WarmPool.start({ provider, size: 2, idleTtlMs: 3_600_000, stateDir });
  try {
    log('warm pool: filling 2 clusters...');
    await pool.whenFull();
    const claims = [];
    const claimMs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      claims.push(await pool.claim());
      claimMs.push(performance.now() - t0);
    }
    log(`warm pool: claims took ${claimMs.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`);
    const refill0 = performance.now();
    await pool.whenFull();
    const refillMs = performance.now() - refill0;

    // Four clusters are up now (two claimed, two refilled): binary text is
    // shared as it would be on a server, so PSS is meaningful.
    const [idle, seeded] = claims;
    log(`footprint: settling, then ${idleSeconds} s idle...`);
    await new Promise((r) => setTimeout(r, 15_000));
    const fp = await footprint(provider, idle!.cluster, idleSeconds);
    const fit = estimateFit(fp, Math.max(0, fp.rssMiB - fp.anonMiB));

    const { loaded, problems } = await loadScenario(process.cwd(), 'scenarios/compromised-web-app');
    if (!loaded) throw new Error(`scenario does not load: ${JSON.stringify(problems)}`);
    const result = await seedScenario(seeded!.cluster, loaded, { seed: 'bench', answerKeys: join(stateDir, 'answer-keys') });
    log(`seeding on a claimed cluster: ${(result.durationMs / 1000).toFixed(2)} s`);
    for (const claimed of claims) await claimed.release();
    return {
      claimMs,
      claimWarm: claims.map((c) => c.warm),
      refillMs,
      footprint: fp,
      fit,
      seedMs: result.durationMs,
      seedPhasesMs: result.phases,
    };
  } finally {
    await pool.shutdown();
  }
}

export interface LeakFigures {
  cycles: number;
  execEvery: number;
  processesLeft: number;
  /** Ports a cycle's cluster used that still listen, held by a process of ours or by none visible. */
  portsLeft: number;
  /** Ports a cycle's cluster used that listen again, held by someone else's process (a shared machine). */
  portsReusedByOthers: number;
  clusterDirsLeft: number;
  tmpEntriesLeft: number;
  cycleP50Ms: number;
}

/**
 * `cycles` create/delete cycles in a private work dir and TMPDIR; every
 * `execEvery`-th cycle also runs a pod with the pod runtime and execs into it,
 * so sandboxes are counted too. Afterwards: processes naming the work dir,
 * ports any cycle's cluster listened on that still listen, directories left.
 */
export async function benchLeaks(root: string, cycles: number, execEvery: number): Promise<LeakFigures> {
  const workDir = join(root, 'cycles');
  const tmp = join(root, 'tmp');
  await mkdir(tmp, { recursive: true });
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // kwokctl's input files go here: any left over are counted
  const provider = new EmbeddedProvider({ workDir });
  const ports = new Set<number>();
  const times: number[] = [];
  try {
    for (let i = 1; i <= cycles; i++) {
      const t0 = performance.now();
      const cluster = await provider.create({ name: `cycle-${i}` });
      for (const port of clusterPorts(cluster.dir)) ports.add(port);
      if (execEvery > 0 && i % execEvery === 0) {
        const runtime = await PodRuntime.start(cluster);
        const kubectl = (...args: string[]) => run(join(provider.binDir, 'kubectl'), ['--kubeconfig', cluster.kubeconfigPath, ...args]);
        await kubectl('run', 'web', '--image=registry.shop.internal/web-app:2.14.1');
        await runtime.ready('default', 'web');
        await kubectl('exec', 'web', '--', 'sh', '-c', 'sleep 30 >/dev/null 2>&1 & cat /etc/hostname');
        await runtime.stop();
      }
      await provider.delete(cluster.name);
      times.push(performance.now() - t0);
      if (i % 10 === 0 || i === cycles) log(`cycles: ${i}/${cycles}`);
    }
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  const { held, reusedByOthers } = await portsStillHeld(ports, workDir);
  for (const port of held) log(`port ${port} still listening: held by ${JSON.stringify(listeningPortOwners().get(port) ?? [])}`);
  const sorted = times.sort((a, b) => a - b);
  return {
    cycles,
    execEvery,
    processesLeft: processesUnder(workDir).length,
    portsLeft: held.length,
    portsReusedByOthers: reusedByOthers.length,
    clusterDirsLeft: (await readdir(join(workDir, 'clusters')).catch(() => [])).length,
    tmpEntriesLeft: (await readdir(tmp)).length,
    cycleP50Ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
  };
}
