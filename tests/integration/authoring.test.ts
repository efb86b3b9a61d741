// The instructor's loop on a REAL cluster: irlab new → irlab validate → irlab test passes; a
// reference solution broken in one place (a skipped step) fails at that step, saying why.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { scaffold } from '../../src/server/content/scaffold.ts';
import { validateContent } from '../../src/server/content/validate.ts';
import { testCommand } from '../../src/server/lab/cli.ts';

let root: string;
let provider: EmbeddedProvider;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'irlab-authoring-'));
  for (const dir of ['src', 'scenarios', 'labs', 'quizzes']) await cp(dir, path.join(root, dir), { recursive: true });
  provider = new EmbeddedProvider({ workDir: path.join(root, '.kwok') });
  await scaffold({ root, kind: 'scenario', slug: 'leaky-shop' });
  await scaffold({ root, kind: 'lab', slug: 'leaky-lab', scenario: 'leaky-shop', lesson: 'l18-audit-logging-incident-response' });
  await scaffold({ root, kind: 'quiz', slug: 'leaky-quiz', lesson: 'l18-audit-logging-incident-response', section: 'audit-logs-the-forensic-trail' });
});

afterAll(async () => {
  for (const cluster of await provider.list()) await provider.delete(cluster.name).catch(() => {});
  await rm(root, { recursive: true, force: true });
}, 60_000);

async function runTest(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await testCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t), root, provider });
  return { code, out: out.join(''), err: err.join('') };
}

describe('irlab new → validate → test', () => {
  it('scaffolds files that validate', async () => {
    const report = await validateContent(root);
    expect(report.problems).toEqual([]);
    const shipped = (await validateContent(process.cwd())).counts;
    expect(report.counts).toMatchObject({ scenarios: shipped.scenarios! + 1, labs: shipped.labs! + 1, quizzes: shipped.quizzes! + 1 });
  });

  it('proves the scaffolded lab on a fresh cluster', async () => {
    const { code, out } = await runTest(['leaky-lab']);
    expect(code, out).toBe(0);
    expect(out).toContain('lab leaky-lab: proven');
    expect(out).toMatch(/ok\s+contain\s+untouched/);
  }, 120_000);

  it('fails at the step whose solution was skipped, with the reason', async () => {
    const { code, out } = await runTest(['leaky-lab', '--skip-step', '1']);
    expect(code).toBe(1);
    expect(out).toMatch(/FAIL\s+contain\s+after\s+labelled: the compromised pod has no quarantine label/);
    expect(out).toContain('1 surprise(s); first: contain after');
  }, 120_000);

  it('refuses an unknown lab with the list of labs', async () => {
    const { code, err } = await runTest(['no-such-lab']);
    expect(code).toBe(2);
    expect(err).toMatch(/labs: l18, .*leaky-lab/);
  });
});
