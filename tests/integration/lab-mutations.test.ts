// The mutation check of every lab on disk, on REAL clusters: a reference solution broken in one
// place (a skipped step) must make `irlab test` fail at that very step, saying which criteria
// fail. `irlab test --all` (npm test's labs stage) proves the unbroken solutions; this proves the
// checks would notice if they were not. A new lab under labs/ is covered without editing this.
//
// Cost: each lab is stopped at the step it skips, the second (or only) one, so a lab costs a seed,
// one solved step, one skipped step and the reset. IRLAB_MUTATE_EVERY_STEP=1 skips every step of
// every lab in turn (slower; for authors working on a lab).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { testCommand } from '../../src/server/lab/cli.ts';
import { validateProjectLabs } from '../../src/server/lab/labs.ts';

const root = process.cwd();
const { labs } = await validateProjectLabs(root);
const everyStep = process.env.IRLAB_MUTATE_EVERY_STEP === '1';
// These run on the embedded engine: a lab that needs kind is proven by tests/kind-clusters.
const cases = labs.filter((lab) => lab.lab.engine === 'any').flatMap((lab) => {
  const count = lab.lab.steps.length;
  const steps = everyStep ? Array.from({ length: count }, (_, i) => i + 1) : [Math.min(2, count)];
  return steps.map((step) => ({ slug: lab.slug, step, id: lab.lab.steps[step - 1]!.id }));
});

let work: string;
let provider: EmbeddedProvider;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-mutations-'));
  provider = new EmbeddedProvider({ workDir: path.join(work, '.kwok') });
});

afterAll(async () => {
  for (const cluster of await provider.list()) await provider.delete(cluster.name).catch(() => {});
  await rm(work, { recursive: true, force: true });
}, 60_000);

describe('every lab notices a broken reference solution', () => {
  it('finds the labs on disk', () => {
    expect(labs.map((l) => l.slug)).toContain('l18');
    expect(cases.length).toBeGreaterThanOrEqual(labs.filter((lab) => lab.lab.engine === 'any').length);
  });

  it('refuses a step number the lab does not have, which would skip nothing', async () => {
    const err: string[] = [];
    const run = (args: string[]) => testCommand(args, { out: () => {}, err: (t) => err.push(t), root, provider });
    expect(await run(['l18', '--skip-step', '99'])).toBe(2);
    expect(await run(['l18', '--step', '1', '--skip-step', '2'])).toBe(2);
    expect(err.join('')).toMatch(/--skip-step 99: give a step number from 1 to \d+[\s\S]*--skip-step 2 comes after --step 1/);
    expect(await provider.list()).toEqual([]);
  });

  it.each(cases)('$slug: skipping step $step ($id) fails at that step', async ({ slug, step, id }) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await testCommand([slug, '--step', String(step), '--skip-step', String(step)], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      root,
      provider,
    });
    const text = out.join('');
    expect(err.join('')).toBe('');
    expect(code, text).toBe(1);
    // Every row before the skipped step's verdict is fine; the first surprise is that verdict.
    const failures = text.split('\n').filter((line) => line.startsWith('FAIL'));
    expect(failures, text).toHaveLength(1);
    const [, failedStep, phase, detail] = /^FAIL\s+(\S+)\s+(\S+)\s+(.*)$/.exec(failures[0]!) ?? [];
    expect({ failedStep, phase }).toEqual({ failedStep: id, phase: 'after' });
    // The message names a failing criterion and why, as "<criterion>: <reason>".
    expect(detail).toMatch(/^[a-z][-a-z]*: \S.{10,}/);
    expect(text).toContain(`lab ${slug}: 1 surprise(s); first: ${id} after`);
  }, 240_000);
});
