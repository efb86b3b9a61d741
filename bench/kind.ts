// kind against the embedded engine, in the same run on the same machine (docs/engine.md has the
// method and results).
//   node bench/kind.ts [--runs 10] [--idle-seconds 30] [--json]
// 1. Create to ready, alternating: an embedded cluster (kwokctl binary runtime), then a kind
//    cluster on the offline node image (kube-router included); each deleted before the next, only
//    create timed. p50/p95 per engine.
// 2. One idle cluster of each, side by side for `--idle-seconds`: memory (kind: the node
//    container's cgroup, page cache excluded; embedded: anonymous memory of its processes), idle
//    CPU, and how many idle clusters of each kind fit here by engine-pool.ts's estimateFit.
// Needs `irlab engine build --kind`. irlab's own dockerd is started when no engine answers, kept
// up between runs (its start is not the cluster's), and stopped at the end if this started it.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { EmbeddedProvider, randomClusterName } from '../src/server/cluster/embedded-provider.ts';
import { answeringEngine, ensureKindEngine, stopOurEngine } from '../src/server/cluster/kind-engine.ts';
import { KindProvider } from '../src/server/cluster/kind-provider.ts';
import { nodeRunner } from '../src/server/cluster/runtime.ts';
import { formatClusterError, type ClusterProvider } from '../src/server/cluster/types.ts';
import { estimateFit, footprint } from './engine-pool.ts';
import { percentile } from './percentile.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
const MiB = (bytes: number) => Math.round(bytes / 2 ** 20);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;


async function timedCreate(provider: ClusterProvider, name: string): Promise<number> {
  const t0 = performance.now();
  await provider.create({ name, timeoutMs: 300_000 });
  return performance.now() - t0;
}

/**
 * A cgroup v1 or v2 file of the container's cgroup for `controller`, on the host. The node's
 * systemd moves PID 1 into `init.scope` below it: the path is cut after the container's id.
 */
function cgroupFile(pid: number, controller: string, file: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes(controller));
  const [, hierarchy = '', path = ''] = (v1 ?? lines[0] ?? '').split(':');
  const container = /^.*?\/[0-9a-f]{64}/.exec(path)?.[0] ?? path;
  return v1 ? join('/sys/fs/cgroup', hierarchy, container, file) : join('/sys/fs/cgroup', container, file);
}

interface KindIdle {
  memoryMiB: number;
  idleCpuPercent: number;
}

/** The kind node container's memory (cgroup usage less page cache) and CPU over `idleSeconds`. */
async function kindIdle(env: NodeJS.ProcessEnv, node: string, idleSeconds: number): Promise<KindIdle> {
  const r = await nodeRunner.run('docker', ['inspect', '-f', '{{.State.Pid}}', node], { env, timeoutMs: 15_000 });
  const pid = Number(r.stdout.trim());
  const usage = () => {
    const v1 = cgroupFile(pid, 'cpuacct', 'cpuacct.usage');
    try {
      return Number(readFileSync(v1, 'utf8')) / 1e9;
    } catch {
      const stat = readFileSync(cgroupFile(pid, 'cpu', 'cpu.stat'), 'utf8');
      return Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) / 1e6;
    }
  };
  const before = usage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const cpu = ((usage() - before) / ((performance.now() - t0) / 1000)) * 100;
  let bytes: number;
  try {
    const stat = readFileSync(cgroupFile(pid, 'memory', 'memory.stat'), 'utf8');
    bytes = Number(/^total_rss (\d+)/m.exec(stat)?.[1] ?? /^anon (\d+)/m.exec(stat)?.[1] ?? 0);
  } catch {
    bytes = 0;
  }
  return { memoryMiB: MiB(bytes), idleCpuPercent: Math.round(cpu * 10) / 10 };
}


async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, 'idle-seconds': { type: 'string', default: '30' }, json: { type: 'boolean' } } });
  const runs = Number.parseInt(values.runs ?? '10', 10);
  const idleSeconds = Number.parseInt(values['idle-seconds'] ?? '30', 10);
  const workDir = await mkdtemp(join(tmpdir(), 'irlab-bench-kind-'));
  const embedded = new EmbeddedProvider({ workDir: join(workDir, 'embedded') });
  const kind = new KindProvider({ stateDir: join(workDir, 'kind'), keepOurEngine: true });
  for (const provider of [embedded, kind]) {
    const available = await provider.available();
    if (!available.ok) {
      log(`cannot benchmark ${provider.name}: ${available.problems.join('; ')}`);
      return 1;
    }
  }
  const wasRunning = (await answeringEngine(nodeRunner, process.env)).found !== undefined;
  const engine = await ensureKindEngine(nodeRunner, process.env);
  const times: Record<'embedded' | 'kind', number[]> = { embedded: [], kind: [] };
  const live: [ClusterProvider, string][] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      for (const provider of [embedded, kind]) {
        const name = randomClusterName();
        live.push([provider, name]);
        const ms = await timedCreate(provider, name);
        times[provider.name].push(ms);
        log(`run ${i}/${runs} ${provider.name}: ready in ${seconds(ms)}`);
        await provider.delete(name);
        live.pop();
      }
    }
    const idleEmbedded = randomClusterName();
    const idleKind = randomClusterName();
    live.push([embedded, idleEmbedded], [kind, idleKind]);
    const embeddedInfo = await embedded.create({ name: idleEmbedded, timeoutMs: 300_000 });
    const kindInfo = await kind.create({ name: idleKind, timeoutMs: 300_000 });
    // Idle means settled: every kube-system pod (coredns, kube-router...) Ready first.
    const kubectl = join(kind.binDir, 'kubectl');
    for (const info of [embeddedInfo, kindInfo]) {
      await nodeRunner.run(kubectl, ['--kubeconfig', info.kubeconfigPath, 'wait', '-n', 'kube-system', '--for=condition=Ready', 'pods', '--all', '--timeout=240s'], { timeoutMs: 250_000 });
    }
    log(`both idle for ${idleSeconds} s...`);
    const [kindFp, embeddedFp] = await Promise.all([kindIdle(engine.env, `${idleKind}-control-plane`, idleSeconds), footprint(embedded, embeddedInfo, idleSeconds)]);
    const rows = (['embedded', 'kind'] as const).map((name) => {
      const sorted = [...times[name]].sort((a, b) => a - b);
      const memoryMiB = name === 'kind' ? kindFp.memoryMiB : embeddedFp.anonMiB;
      const idleCpuPercent = name === 'kind' ? kindFp.idleCpuPercent : embeddedFp.idleCpuPercent;
      return { engine: name, runs: sorted.length, p50Ms: Math.round(percentile(sorted, 50)), p95Ms: Math.round(percentile(sorted, 95)), memoryMiB, idleCpuPercent, fits: estimateFit({ anonMiB: memoryMiB, idleCpuPercent }, 0).fits };
    });
    if (values.json) process.stdout.write(`${JSON.stringify({ cores: cpus().length, memMiB: MiB(totalmem()), idleSeconds, rows }, null, 2)}\n`);
    else {
      process.stdout.write(`create to ready (${runs} runs each, alternating), idle footprint over ${idleSeconds} s, ${cpus().length} cores, ${MiB(totalmem())} MiB\n`);
      process.stdout.write('engine     p50      p95      memory   idle CPU  idle clusters that fit\n');
      for (const r of rows) process.stdout.write(`${r.engine.padEnd(10)} ${seconds(r.p50Ms).padEnd(8)} ${seconds(r.p95Ms).padEnd(8)} ${`${r.memoryMiB} MiB`.padEnd(8)} ${`${r.idleCpuPercent} %`.padEnd(9)} ${r.fits}\n`);
    }
    return 0;
  } catch (err) {
    log(`bench failed: ${formatClusterError(err)}`);
    return 1;
  } finally {
    for (const [provider, name] of live.reverse()) await provider.delete(name).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    if (engine.ours && !wasRunning) await stopOurEngine(nodeRunner, process.env).catch(() => undefined);
  }
}

process.exitCode = await main();
