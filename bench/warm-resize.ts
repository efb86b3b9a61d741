// `npm run bench:warm-resize`: from "a class is due" (the warm pool told a new size) to N real
// embedded clusters ready, for N = 1..4, on this machine; then back to the floor (0) and how long
// deleting the extra ones takes. The pool creates one cluster at a time (the machine has 2 cores),
// so the time to N ready is what an operator's lead time (IRLAB_WARM_LEAD_MINUTES) must cover.
// Prints one JSON object on stdout; progress on stderr. Leaves nothing running.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { EmbeddedProvider } from '../src/server/cluster/embedded-provider.ts';
import { WarmPool } from '../src/server/cluster/warm-pool.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
const sizes = (process.argv[2] ?? '1,2,3,4').split(',').map(Number);

const work = await mkdtemp(join(tmpdir(), 'irlab-bench-warm-'));
const provider = new EmbeddedProvider({ workDir: join(work, 'engine') });
const available = await provider.available();
if (!available.ok) {
  log(`cannot benchmark: ${available.problems.join('; ')}`);
  process.exit(1);
}
const created: number[] = [];
const pool = await WarmPool.start({ provider, size: 0, idleTtlMs: 3_600_000, stateDir: join(work, 'state'), onEvent: (e) => e.type === 'created' && created.push(e.ms) });
const runs: Array<{ n: number; readyMs: number; perClusterMs: number; eachReadyAtMs: number[]; shrinkMs: number }> = [];
try {
  for (const n of sizes) {
    created.length = 0;
    const t0 = performance.now();
    const eachReadyAtMs: number[] = [];
    const resized = pool.resize(n);
    while (pool.readyCount < n) {
      const before = pool.readyCount;
      await Promise.race([pool.whenFull(), new Promise((r) => setTimeout(r, 100))]);
      for (let k = before; k < pool.readyCount; k++) eachReadyAtMs.push(Math.round(performance.now() - t0));
    }
    await resized;
    const readyMs = Math.round(performance.now() - t0);
    const s0 = performance.now();
    await pool.resize(0);
    const shrinkMs = Math.round(performance.now() - s0);
    runs.push({ n, readyMs, perClusterMs: Math.round(readyMs / n), eachReadyAtMs, shrinkMs });
    log(`N=${n}: ${n} ready in ${(readyMs / 1000).toFixed(1)} s (${eachReadyAtMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s); back to 0 in ${(shrinkMs / 1000).toFixed(1)} s`);
  }
} finally {
  await pool.shutdown();
  await rm(work, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ cores: cpus().length, runs }, null, 2)}\n`);
