/**
 * `npm run bench:policy`: how long the audit-policy checks take. The static check (parse,
 * validate, evaluate 43 requests, grade) on the lesson's policy; then, on a real embedded cluster,
 * the policy swap (API server restart) and the live check (probes and audit-log read), which
 * together are lab step 1's live check (target: 8 s). Prints figures; asserts nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkPolicyText } from '../src/lib/audit-policy/check.ts';
import { liveCheckAuditPolicy } from '../src/server/audit-policy/live-check.ts';
import { EmbeddedProvider } from '../src/server/cluster/embedded-provider.ts';
import { SEED_POLICY } from '../tests/integration/audit-policy-cases.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const fmt = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(2)} ms, p95 ${quantile(xs, 0.95).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`;

const staticMs: number[] = [];
for (let i = 0; i < 500; i++) {
  const t = performance.now();
  checkPolicyText(SEED_POLICY);
  staticMs.push(performance.now() - t);
}
console.log(`static check (lesson policy, 43 requests), 500 runs: ${fmt(staticMs.slice(50))}`);

const workDir = await mkdtemp(path.join(tmpdir(), 'irlab-bench-policy-'));
const provider = new EmbeddedProvider({ workDir });
const name = 'bench-policy';
try {
  const available = await provider.available();
  if (!available.ok) throw new Error(`embedded provider unavailable: ${available.problems.join('; ')} (run npm run engine:build)`);
  let t = performance.now();
  const cluster = await provider.create({ name, nodes: 0 });
  console.log(`cluster create: ${(performance.now() - t).toFixed(0)} ms`);
  const file = path.join(workDir, 'policy.yaml');
  await writeFile(file, SEED_POLICY);
  const swaps: number[] = [];
  const checks: number[] = [];
  const probes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await provider.setAuditPolicy(name, file);
    swaps.push(performance.now() - t);
    const live = await liveCheckAuditPolicy({ cluster, provider, policyText: SEED_POLICY });
    checks.push(live.timings.totalMs);
    probes.push(live.timings.probesMs);
    if (!live.result.passed || live.disagreements.length) console.log(`  run ${i}: unexpected result ${JSON.stringify(live.result.criteria.filter((c) => !c.passed))}`);
  }
  console.log(`policy swap (API server restart), ${RUNS} runs: ${fmt(swaps)}`);
  console.log(`live check (token, identities, 43 probes, log read), ${RUNS} runs: ${fmt(checks)}`);
  console.log(`  of which the 43 probes: ${fmt(probes)}`);
  const total = swaps.map((s, i) => s + checks[i]!);
  console.log(`step 1 live check = swap + live check: ${fmt(total)} (target 8000 ms)`);
} finally {
  await provider.delete(name).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
}
