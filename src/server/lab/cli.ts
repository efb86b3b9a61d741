// `irlab test <lab> [--step N] [--skip-step N]` and `irlab test --all`: prove labs on fresh
// clusters; a table on stdout, exit 1 on any surprise.
import { parseArgs } from 'node:util';
import { EmbeddedProvider, randomClusterName } from '../cluster/embedded-provider.ts';
import { KindProvider } from '../cluster/kind-provider.ts';
import { labEngineOn, type EngineName, type LabEngineNeed } from '../../lib/lab-engine.ts';
import { formatProblems } from '../content/friendly-errors.ts';
import { formatRows, testLab } from './lab-test.ts';
import { validateProjectLabs } from './labs.ts';
import { reapCluster } from '../cluster/pool-state.ts';
import type { ClusterInfo, ClusterProvider, CreateClusterOptions } from '../cluster/types.ts';

/**
 * The embedded provider, remembering the clusters this command made and has not deleted yet,
 * by a name chosen before creation starts: an author's Ctrl-C in the middle of a create must not
 * leave a cluster running.
 */
class RememberingProvider extends EmbeddedProvider {
  readonly live = new Set<string>();
  override async create(options: CreateClusterOptions = {}): Promise<ClusterInfo> {
    const name = options.name ?? randomClusterName();
    this.live.add(name);
    return super.create({ ...options, name });
  }
  override async delete(name: string): Promise<void> {
    await super.delete(name);
    this.live.delete(name);
  }
}

/**
 * On SIGINT/SIGTERM: reap every cluster the command still has, then exit 130. The signal also
 * reaches kwokctl (same process group), so a create in flight fails: `reaping()` lets the
 * command wait for the reaping instead of crashing on that error with the clusters half gone.
 * Before exiting, the run itself is given a moment to fail (its clusters are gone) so that its
 * `finally` blocks remove their temp dirs; exiting from here at once left them behind.
 */
function reapOnInterrupt(provider: RememberingProvider, err: (t: string) => void, run: () => Promise<unknown>) {
  let reaping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    err(`\nirlab test: ${signal}: deleting ${provider.live.size} cluster(s) of this run\n`);
    const reapAll = () => Promise.all([...provider.live].map((name) => reapCluster(provider.workDir, name).catch(() => 0)));
    // Reaped again once the run has settled: a create still in flight may have started a component
    // after the first reaping (an etcd was found running after such a run).
    reaping = reapAll()
      .then(() => settledWithin(run(), 15_000))
      .then(reapAll)
      .then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    reaping: () => reaping,
    stop: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Resolves once `promise` settles either way, or after `ms`, whichever comes first. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => clearTimeout(timer));
  });
}

/**
 * The labs `irlab test` proves: the named ones, or with --all every lab that runs on this
 * provider; one that needs another engine (a kind lab under the embedded engine) is skipped, and
 * named, rather than failed.
 */
export function labsToProve<T extends { slug: string; lab: { engine: LabEngineNeed } }>(labs: T[], options: { all: boolean; slugs: string[]; provider: EngineName }): { chosen: T[]; skipped: T[] } {
  if (!options.all) return { chosen: labs.filter((l) => options.slugs.includes(l.slug)), skipped: [] };
  const engine = labEngineOn(options.provider);
  const runsHere = (lab: T) => !engine.fit(lab.lab.engine).unavailable;
  return { chosen: labs.filter(runsHere), skipped: labs.filter((l) => !runsHere(l)) };
}

export async function testCommand(
  argv: string[],
  io: { out: (t: string) => void; err: (t: string) => void; root?: string; provider?: ClusterProvider } = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean', default: false }, step: { type: 'string' }, 'skip-step': { type: 'string' }, provider: { type: 'string' } },
    allowPositionals: true,
  });
  const root = io.root ?? process.cwd();
  const { labs, problems } = await validateProjectLabs(root);
  if (problems.length) {
    io.err(`${formatProblems(problems)}\n`);
    return 1;
  }
  const { chosen, skipped } = labsToProve(labs, { all: values.all, slugs: positionals, provider: io.provider?.name ?? (values.provider === 'kind' ? 'kind' : 'embedded') });
  for (const lab of skipped) io.out(`lab ${lab.slug}: skipped: it needs the ${lab.lab.engine} engine (irlab test ${lab.slug} --provider ${lab.lab.engine})\n`);
  if (values.all && !chosen.length) {
    io.out('no lab runs on this provider\n');
    return 0;
  }
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
  if (values.provider !== undefined && values.provider !== 'embedded' && values.provider !== 'kind') {
    io.err(`irlab test: --provider ${values.provider}: give embedded (the default) or kind\n`);
    return 2;
  }
  // On kind, the lab's clusters are containers that `irlab cluster delete` (or the next test) removes;
  // an interrupt leaves them to the lab test's own clean-up.
  const onKind = !io.provider && values.provider === 'kind' ? new KindProvider() : undefined;
  const remembering = io.provider || onKind ? undefined : new RememberingProvider();
  const provider = io.provider ?? onKind ?? remembering!;
  if (onKind) {
    const available = await onKind.available();
    if (!available.ok) {
      io.err(`irlab test --provider kind: kind cannot run here: ${available.problems.join('; ')}\n`);
      return 1;
    }
  }
  const proveLabs = async (): Promise<number> => {
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
    return failed;
  };
  let running: Promise<number> | undefined;
  const interrupt = remembering ? reapOnInterrupt(remembering, io.err, () => running ?? Promise.resolve()) : undefined;
  try {
    running = proveLabs();
    return (await running) ? 1 : 0;
  } catch (error) {
    const reaping = interrupt?.reaping();
    if (!reaping) throw error;
    await reaping;
    return 130;
  } finally {
    interrupt?.stop();
  }
}
