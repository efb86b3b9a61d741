// `irlab test <lab> [--step N] [--skip-step N]` and `irlab test --all`: prove labs on fresh
// clusters; a table on stdout, exit 1 on any surprise.
import { parseArgs } from 'node:util';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import type { ClusterProvider } from '../cluster/types.ts';
import { formatProblems } from '../content/friendly-errors.ts';
import { formatRows, testLab } from './lab-test.ts';
import { validateProjectLabs } from './labs.ts';

export async function testCommand(
  argv: string[],
  io: { out: (t: string) => void; err: (t: string) => void; root?: string; provider?: ClusterProvider } = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean', default: false }, step: { type: 'string' }, 'skip-step': { type: 'string' } },
    allowPositionals: true,
  });
  const root = io.root ?? process.cwd();
  const { labs, problems } = await validateProjectLabs(root);
  if (problems.length) {
    io.err(`${formatProblems(problems)}\n`);
    return 1;
  }
  const chosen = values.all ? labs : labs.filter((l) => positionals.includes(l.slug));
  if (!chosen.length) {
    io.err(`usage: irlab test <lab> [--step N] [--skip-step N] | irlab test --all\nlabs: ${labs.map((l) => l.slug).join(', ') || 'none'}\n`);
    return 2;
  }
  // A step number outside the lab would silently test nothing (a skipped step that never comes).
  const most = Math.min(...chosen.map((l) => l.lab.steps.length));
  const stepFlags: { step?: number; 'skip-step'?: number } = {};
  for (const flag of ['step', 'skip-step'] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > most) {
      io.err(`irlab test: --${flag} ${text}: give a step number from 1 to ${most}\n`);
      return 2;
    }
    stepFlags[flag] = n;
  }
  const { step: untilStep, 'skip-step': skipStep } = stepFlags;
  if (untilStep !== undefined && skipStep !== undefined && skipStep > untilStep) {
    io.err(`irlab test: --skip-step ${skipStep} comes after --step ${untilStep}, so nothing would be skipped\n`);
    return 2;
  }
  const provider = io.provider ?? new EmbeddedProvider();
  let failed = 0;
  for (const lab of chosen) {
    io.out(`lab ${lab.slug}: seeding a fresh cluster...\n`);
    const rows = await testLab(lab, {
      root,
      provider,
      ...(untilStep !== undefined ? { untilStep } : {}),
      ...(skipStep !== undefined ? { skipStep } : {}),
      onRow: (row) => io.out(`${formatRows([row])}\n`),
    });
    const bad = rows.filter((r) => !r.ok);
    failed += bad.length;
    io.out(bad.length ? `lab ${lab.slug}: ${bad.length} surprise(s); first: ${bad[0]!.step} ${bad[0]!.phase}\n` : `lab ${lab.slug}: proven (${rows.length} checks)\n`);
  }
  return failed ? 1 : 0;
}
