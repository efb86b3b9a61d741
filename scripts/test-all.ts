/**
 * `npm test`: everything CI runs, in order, with progress and timings, ending in one line that
 * counts every test: `irlab: N passed, M failed`. Installs what a fresh machine lacks first.
 * Stages after a failure still run where they can, so one run shows every problem.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const results = path.join(root, '.irlab/test-results');
const bin = (name: string) => path.join(root, 'node_modules/.bin', name);

interface Stage {
  name: string;
  command: string[];
  /** Stages that must have passed for this one to mean anything. */
  needs?: string[];
}

const stages: Stage[] = [
  { name: 'system', command: ['bash', 'scripts/ensure-system-packages.sh'] },
  // Builds the pinned cluster binaries from their Go modules on a fresh machine (~11 min on
  // 2 cores); a no-op taking under a second once the cache holds them.
  { name: 'engine', command: ['bash', 'engine/build.sh'] },
  { name: 'validate', command: [process.execPath, 'bin/irlab.mjs', 'validate'] },
  { name: 'typecheck', command: ['npm', 'run', '--silent', 'check'] },
  { name: 'lint', command: [bin('eslint'), '--max-warnings', '0', '.'] },
  { name: 'build', command: [bin('astro'), 'build'], needs: ['validate'] },
  {
    name: 'unit',
    command: [bin('vitest'), 'run', '--project', 'unit', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(results, 'unit.json')}`],
  },
  // The store-level tests again on PostgreSQL (a throwaway server from Debian's binaries).
  {
    name: 'postgres',
    command: [bin('vitest'), 'run', '--project', 'postgres', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(results, 'postgres.json')}`],
    // Its server tests run serve.ts over the built site and start a lab on the engine.
    needs: ['system', 'engine', 'build'],
  },
  {
    name: 'integration',
    command: [bin('vitest'), 'run', '--project', 'integration', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(results, 'integration.json')}`],
    needs: ['engine'],
  },
  // Every lab proven on a fresh cluster: checks fail untouched, pass after the reference solution.
  { name: 'labs', command: [process.execPath, 'bin/irlab.mjs', 'test', '--all'], needs: ['engine', 'validate'] },
  { name: 'e2e', command: [bin('playwright'), 'test'], needs: ['system', 'build'] },
  // kind from an offline node image (issue 19): Debian's Docker, the base and node images, built
  // once per content hash (about 25 min cold on 2 cores, seconds warm), then real kind clusters.
  { name: 'kind-engine', command: ['bash', 'engine/kind/build.sh'], needs: ['engine'] },
  {
    name: 'kind',
    command: [bin('vitest'), 'run', '--project', 'kind', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(results, 'kind.json')}`],
    needs: ['kind-engine'],
  },
];

rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const outcome = new Map<string, 'passed' | 'failed' | 'skipped'>();

for (const stage of stages) {
  const blocked = stage.needs?.filter((need) => outcome.get(need) !== 'passed') ?? [];
  if (blocked.length) {
    console.log(`\n━━ ${stage.name}: skipped (needs ${blocked.join(', ')})`);
    outcome.set(stage.name, 'skipped');
    continue;
  }
  console.log(`\n━━ ${stage.name}: ${stage.command.map((c) => path.basename(c)).join(' ')}`);
  const started = Date.now();
  const [command, ...args] = stage.command as [string, ...string[]];
  const run = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : '1' } });
  const ok = run.status === 0;
  outcome.set(stage.name, ok ? 'passed' : 'failed');
  console.log(`━━ ${stage.name}: ${ok ? 'ok' : `FAILED (exit ${run.status ?? run.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function readJson(file: string): Record<string, unknown> | undefined {
  const full = path.join(results, file);
  return existsSync(full) ? (JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>) : undefined;
}

// Count tests from the runners' own JSON reports. A runner can exit non-zero with a report that
// counts no failed test (an unhandled error, a web server that never started): that stage, like
// one that produced no report, counts as one failure, so the closing line never reads "0 failed"
// over a red run.
let passed = 0;
let failed = 0;
let skipped = 0;
for (const stage of ['unit', 'postgres', 'integration', 'kind']) {
  const report = readJson(`${stage}.json`) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number } | undefined;
  if (report) {
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    if (outcome.get(stage) === 'failed' && report.numFailedTests === 0) failed += 1;
  } else if (outcome.get(stage) === 'failed') failed += 1;
  else if (outcome.get(stage) === 'skipped') skipped += 1;
}
const e2e = readJson('e2e.json') as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } } | undefined;
if (e2e) {
  passed += e2e.stats.expected;
  failed += e2e.stats.unexpected + e2e.stats.flaky;
  skipped += e2e.stats.skipped;
  if (outcome.get('e2e') === 'failed' && e2e.stats.unexpected + e2e.stats.flaky === 0) failed += 1;
} else if (outcome.get('e2e') === 'failed') failed += 1;
// Checks that are not test runners (typecheck, lint, build...) count as one test each.
for (const [name, result] of outcome) {
  if (name === 'unit' || name === 'postgres' || name === 'integration' || name === 'kind' || name === 'e2e') continue;
  if (result === 'passed') passed += 1;
  else if (result === 'failed') failed += 1;
  else skipped += 1;
}
if (outcome.get('e2e') === 'skipped') skipped += 1;

console.log('\nstages: ' + [...outcome].map(([name, result]) => `${name} ${result}`).join(' · '));
console.log(`irlab: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit([...outcome.values()].some((r) => r !== 'passed') ? 1 : 0);
