// The embedded engine's figures (docs/engine.md has the method and results).
//   node bench/engine.ts [--runs 10] [--cycles 100] [--exec-every 10] [--idle-seconds 30] [--no-pool] [--json]
// 1. Cold create to ready: each run creates a brand-new cluster (fresh etcd
//    data dir, fresh PKI, new random ports) in a throwaway KWOK_WORKDIR, waits
//    for /readyz, then deletes it; only create is timed.
// 2. Warm pool (bench/engine-pool.ts): claim latency, refill time, the idle
//    footprint (RSS, PSS, anonymous memory, idle CPU) and how many idle
//    clusters fit here, scenario seeding on a claimed cluster.
// 3. `--cycles` create/delete cycles, then what they left behind.
// Binaries come from the engine cache (`irlab engine build` first). Runs are
// sequential: they share 2 cores. IRLAB_ENGINE_TUNING=none measures kwokctl's
// stock component flags for comparison.

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { EmbeddedProvider, randomClusterName } from '../src/server/cluster/embedded-provider.ts';
import { engineTuning } from '../src/server/cluster/kwokctl-config.ts';
import { benchLeaks, benchPool, type LeakFigures, type PoolFigures } from './engine-pool.ts';
import { percentile } from './percentile.ts';
import { formatClusterError } from '../src/server/cluster/types.ts';

const TARGET_MS = 15_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      cycles: { type: 'string', default: '100' },
      'exec-every': { type: 'string', default: '10' },
      'idle-seconds': { type: 'string', default: '30' },
      'no-pool': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const runs = Number.parseInt(values.runs ?? '10', 10);
  const cycles = Number.parseInt(values.cycles ?? '100', 10);
  const workDir = await mkdtemp(join(tmpdir(), 'irlab-bench-'));
  const provider = new EmbeddedProvider({ workDir });
  const available = await provider.available();
  if (!available.ok) {
    process.stderr.write(`cannot benchmark: ${available.problems.join('; ')}\n`);
    return 1;
  }

  const create: number[] = [];
  const remove: number[] = [];
  const stepTimes = new Map<string, number[]>();
  let pool: PoolFigures | undefined;
  let leaks: LeakFigures | undefined;
  try {
    for (let i = 1; i <= runs; i++) {
      const name = `bench-${randomClusterName().slice(4)}`;
      const t0 = performance.now();
      let current: { step: string; at: number } | undefined;
      const runSteps: string[] = [];
      const endStep = (at: number) => {
        if (!current) return;
        stepTimes.set(current.step, [...(stepTimes.get(current.step) ?? []), at - current.at]);
        if (at - current.at >= 500) runSteps.push(`${current.step} ${seconds(at - current.at)}`);
      };
      await provider.create({
        name,
        timeoutMs: 120_000,
        onStep: (step) => {
          const at = performance.now();
          endStep(at);
          current = { step, at };
        },
      });
      const t1 = performance.now();
      endStep(t1);
      await provider.delete(name);
      const t2 = performance.now();
      create.push(t1 - t0);
      remove.push(t2 - t1);
      process.stderr.write(`run ${i}/${runs}: create ${seconds(t1 - t0)} (${runSteps.join(', ')}), delete ${seconds(t2 - t1)}\n`);
    }
    if (!values['no-pool']) pool = await benchPool(join(workDir, 'pool'), join(workDir, 'pool-state'), Number(values['idle-seconds']));
    if (cycles > 0) leaks = await benchLeaks(workDir, cycles, Number(values['exec-every']));
  } catch (err) {
    process.stderr.write(`benchmark failed: ${formatClusterError(err)}\n`);
    return 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  const sorted = [...create].sort((a, b) => a - b);
  const summary = {
    tuning: engineTuning(),
    runs,
    cpus: cpus().length,
    createP50Ms: Math.round(percentile(sorted, 50)),
    createP95Ms: Math.round(percentile(sorted, 95)),
    createMinMs: Math.round(sorted[0] ?? Number.NaN),
    createMaxMs: Math.round(sorted[sorted.length - 1] ?? Number.NaN),
    deleteP50Ms: Math.round(percentile([...remove].sort((a, b) => a - b), 50)),
    targetMs: TARGET_MS,
    stepP50Ms: Object.fromEntries(
      [...stepTimes].map(([step, times]) => [step, Math.round(percentile([...times].sort((a, b) => a - b), 50))]),
    ),
    pool,
    leaks,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      (runs > 0
        ? `embedded cluster, cold create to ready, ${runs} runs on ${summary.cpus} cores:\n` +
            `  p50 ${seconds(summary.createP50Ms)}  p95 ${seconds(summary.createP95Ms)}  ` +
            `min ${seconds(summary.createMinMs)}  max ${seconds(summary.createMaxMs)}  (target <= ${seconds(TARGET_MS)})\n` +
            `  delete p50 ${seconds(summary.deleteP50Ms)}\n` +
            `  step p50: ${Object.entries(summary.stepP50Ms)
              .map(([step, ms]) => `${step} ${seconds(ms)}`)
              .join(', ')}\n`
        : '') +
        (pool
          ? `warm pool (tuning: ${summary.tuning}):\n` +
            `  claim ${pool.claimMs.map((ms) => `${ms.toFixed(1)} ms`).join(', ')} (warm: ${pool.claimWarm.join(', ')}), refill of 2 ${seconds(pool.refillMs)}\n` +
            `  idle cluster: ${pool.footprint.processes} processes, RSS ${pool.footprint.rssMiB} MiB, PSS ${pool.footprint.pssMiB} MiB, ` +
            `anonymous ${pool.footprint.anonMiB} MiB, CPU ${pool.footprint.idleCpuPercent} % of a core over ${pool.footprint.idleSeconds} s\n` +
            `  idle clusters that fit here: ${pool.fit.fits} (memory ${pool.fit.byMemory}, cpu ${pool.fit.byCpu}; ${pool.fit.how})\n` +
            `  seeding compromised-web-app on a claimed cluster: ${seconds(pool.seedMs)} (${Object.entries(pool.seedPhasesMs)
              .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
              .join(', ')})\n`
          : '') +
        (leaks
          ? `create/delete cycles: ${leaks.cycles} (exec into a pod every ${leaks.execEvery}), cycle p50 ${seconds(leaks.cycleP50Ms)}; left behind: ` +
            `${leaks.processesLeft} processes, ${leaks.portsLeft} listening ports, ${leaks.clusterDirsLeft} cluster dirs, ${leaks.tmpEntriesLeft} temp entries ` +
            `(${leaks.portsReusedByOthers} of the cycles' ports listen again, held by other users' processes)\n`
          : ''),
    );
  }
  return runs === 0 || summary.createP95Ms <= TARGET_MS ? 0 : 2;
}

process.exitCode = await main();
