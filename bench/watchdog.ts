// What the cluster watchdog costs and how fast it repairs, on one REAL embedded cluster:
//   - one pid sweep (pid files + /proc) and one /readyz, each timed 200 times, and the CPU a
//     watchdog with IRLAB_WATCHDOG_SECONDS=5 / IRLAB_WATCHDOG_READYZ_SECONDS=30 spends on 50
//     clusters, extrapolated from those;
//   - for each control-plane component: SIGKILL it, then time until the watchdog reports it
//     repaired and /readyz answers ok.
// Run: node bench/watchdog.ts (needs the engine: `irlab engine build`). Deletes its cluster.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterWatchdog, type WatchdogEvent } from '../src/server/cluster/cluster-watchdog.ts';
import { EMBEDDED_COMPONENTS } from '../src/server/cluster/component-restart.ts';
import { EmbeddedProvider } from '../src/server/cluster/embedded-provider.ts';
import { clusterPaths, readPid } from '../src/server/cluster/kwokctl.ts';
import { processState, waitUntil } from '../src/server/cluster/runtime.ts';

const work = await mkdtemp(path.join(tmpdir(), 'irlab-bench-watchdog-'));
const provider = new EmbeddedProvider({ workDir: path.join(work, 'kwok') });
const name = 'bench-watchdog';

async function timeEach(label: string, times: number, work: () => Promise<unknown>): Promise<number> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < times; i++) await work();
  const wallMs = (performance.now() - started) / times;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / times;
  console.log(`${label}: ${wallMs.toFixed(2)} ms wall, ${cpuMs.toFixed(2)} ms CPU (mean of ${times})`);
  return cpuMs;
}

try {
  await provider.create({ name, timeoutMs: 180_000 });
  const sweep = await timeEach('pid sweep of one cluster', 200, () => provider.deadComponents(name));
  const readyz = await timeEach('GET /readyz of one cluster', 200, () => provider.ready(name));
  const perSecond = (50 * sweep) / 5 + (50 * readyz) / 30;
  console.log(`50 clusters, a sweep every 5 s and /readyz every 30 s: ${perSecond.toFixed(1)} ms CPU per second (${(perSecond / 10).toFixed(2)} % of one core)`);

  const events: WatchdogEvent[] = [];
  const watchdog = new ClusterWatchdog({ target: provider, replace: async () => {}, intervalMs: 1_000, readyzEveryMs: 2_000, onEvent: (e) => events.push(e) });
  watchdog.watch(name);
  watchdog.start();
  const paths = clusterPaths(provider.workDir, name);
  for (const component of EMBEDDED_COMPONENTS) {
    const pid = (await readPid(paths.pidsDir, component))!;
    const seen = events.length;
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => processState(pid) !== 'running', { timeoutMs: 10_000, what: `${component} to die` });
    await waitUntil(async () => events.slice(seen).some((e) => e.type === 'repaired' || e.type === 'replaced'), { timeoutMs: 180_000, intervalMs: 100, what: `${component} to be repaired` });
    await waitUntil(() => provider.ready(name), { timeoutMs: 60_000, intervalMs: 100, what: 'readyz' });
    const outcome = events.slice(seen).find((e) => e.type === 'repaired' || e.type === 'replaced')!;
    console.log(`SIGKILL ${component}: ${outcome.type} after ${((performance.now() - killedAt) / 1000).toFixed(1)} s (repair itself ${outcome.type === 'repaired' ? (outcome.ms / 1000).toFixed(1) : '-'} s)`);
  }
  await watchdog.stop();
} finally {
  await provider.delete(name).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
