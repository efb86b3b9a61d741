// Cold create-to-ready time of embedded clusters.
//   node bench/engine.ts [--runs 10] [--json]
// Each run creates a brand-new cluster (fresh etcd data dir, fresh PKI, new
// random ports) in a throwaway KWOK_WORKDIR, waits for /readyz, then deletes
// it; only create is timed. Binaries come from the engine cache
// (`irlab engine build` first). Runs are sequential: they share 2 cores.

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { EmbeddedProvider, randomClusterName } from '../src/server/cluster/embedded-provider.ts';
import { formatClusterError } from '../src/server/cluster/types.ts';

const TARGET_MS = 15_000;

function percentile(sorted: readonly number[], p: number): number {
  // Nearest-rank: the smallest value with at least p% of samples at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, json: { type: 'boolean' } } });
  const runs = Number.parseInt(values.runs ?? '10', 10);
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
  } catch (err) {
    process.stderr.write(`benchmark failed: ${formatClusterError(err)}\n`);
    return 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  const sorted = [...create].sort((a, b) => a - b);
  const summary = {
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
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `embedded cluster, cold create to ready, ${runs} runs on ${summary.cpus} cores:\n` +
        `  p50 ${seconds(summary.createP50Ms)}  p95 ${seconds(summary.createP95Ms)}  ` +
        `min ${seconds(summary.createMinMs)}  max ${seconds(summary.createMaxMs)}  (target <= ${seconds(TARGET_MS)})\n` +
        `  delete p50 ${seconds(summary.deleteP50Ms)}\n` +
        `  step p50: ${Object.entries(summary.stepP50Ms)
          .map(([step, ms]) => `${step} ${seconds(ms)}`)
          .join(', ')}\n`,
    );
  }
  return summary.createP95Ms <= TARGET_MS ? 0 : 2;
}

process.exitCode = await main();
