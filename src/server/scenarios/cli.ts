// `irlab scenario list|validate|seed`. What a command produces goes to stdout; progress and
// errors go to stderr, so `irlab scenario seed ... > report.txt` keeps the report clean.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { allProviders } from '../cluster/select-provider.ts';
import { findCluster } from '../cluster/find-cluster.ts';
import { formatClusterError, type ClusterProvider } from '../cluster/types.ts';
import { formatProblems } from '../content/friendly-errors.ts';
import { listScenarioDirs, loadScenario, validateScenarios } from './load.ts';
import { seedScenario } from './seed.ts';
import { scenarioTimeScale } from './timeline.ts';

export interface ScenarioCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Project root holding `scenarios/`. */
  root: string;
  providers: () => ClusterProvider[];
  answerKeys?: string;
}

const USAGE = `usage:
  irlab scenario list
  irlab scenario validate [DIR]                 (default: every scenario under scenarios/)
  irlab scenario seed SLUG --cluster N [--seed S] [--time-scale X]
                                                (X times the timeline's pauses; default
                                                IRLAB_SCENARIO_TIME_SCALE or 1: minutes)
`;

export async function runScenarioCommand(argv: string[], partial: Partial<ScenarioCliIo> = {}): Promise<number> {
  const io: ScenarioCliIo = {
    stdout: partial.stdout ?? ((t) => process.stdout.write(t)),
    stderr: partial.stderr ?? ((t) => process.stderr.write(t)),
    root: partial.root ?? process.cwd(),
    providers: partial.providers ?? (() => allProviders({})),
    ...(partial.answerKeys ? { answerKeys: partial.answerKeys } : {}),
  };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'list': {
        const { scenarios, problems } = await validateScenarios(io.root);
        for (const s of scenarios) io.stdout(`${s.slug}\t${s.scenario.title}\n`);
        if (problems.length) io.stderr(`${formatProblems(problems)}\n(invalid scenarios are not listed; "irlab scenario validate" explains)\n`);
        return 0;
      }
      case 'validate': {
        const dirs = rest.length ? rest : await listScenarioDirs(io.root);
        const problems = [];
        for (const dir of dirs) problems.push(...(await loadScenario(io.root, dir)).problems);
        if (problems.length) {
          io.stderr(`${formatProblems(problems)}\n`);
          return 1;
        }
        io.stdout(`${dirs.length} scenario${dirs.length === 1 ? '' : 's'} valid\n`);
        return 0;
      }
      case 'seed': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { cluster: { type: 'string' }, seed: { type: 'string' }, 'time-scale': { type: 'string' } },
          allowPositionals: true,
        });
        const slug = positionals[0];
        if (!slug || !values.cluster) {
          io.stderr(USAGE);
          return 2;
        }
        const { loaded, problems } = await loadScenario(io.root, `scenarios/${slug}`);
        if (!loaded) {
          io.stderr(`${formatProblems(problems)}\n`);
          return 1;
        }
        const timeScale = scenarioTimeScale(values['time-scale'] === undefined ? process.env : { IRLAB_SCENARIO_TIME_SCALE: values['time-scale'] });
        const cluster = await findCluster(io.providers(), values.cluster);
        const seed = values.seed ?? randomBytes(6).toString('hex');
        io.stderr(`seeding ${slug} into ${cluster.name} with seed ${seed}\n`);
        const result = await seedScenario(cluster, loaded, {
          seed,
          timeScale,
          ...(io.answerKeys ? { answerKeys: io.answerKeys } : {}),
          onProgress: (message) => io.stderr(` • ${message}\n`),
        });
        const phases = Object.entries(result.phases).map(([name, ms]) => `${name} ${ms} ms`).join(', ');
        const malicious = result.outcomes.filter((o) => o.step.malicious).length;
        io.stdout(
          `seeded ${slug} into ${cluster.name} in ${(result.durationMs / 1000).toFixed(2)} s (${phases})\n` +
            `${result.outcomes.length} requests made (${malicious} by the attacker); answer key: ${result.answerKeyFile}\n`,
        );
        return 0;
      }
      default:
        io.stderr(USAGE);
        return command === undefined || command === 'help' ? 0 : 2;
    }
  } catch (error) {
    io.stderr(`error: ${formatClusterError(error)}\n`);
    return 1;
  }
}
