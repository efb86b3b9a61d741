/**
 * `irlab test <lab>`: proves a lab on a fresh cluster the way an instructor needs it proven.
 * Seed; every check must fail on the untouched world (a check that passes before the learner did
 * anything is broken); then the reference solution step by step: each step's checks pass after
 * its solution and not before; finally reset must give a fresh cluster.
 */
import { learnerKubeconfig } from '../cluster/types.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binDir, readEngineVersions } from '../cluster/binaries.ts';
import type { ClusterProvider } from '../cluster/types.ts';
import { learnerService } from '../learners/learners.ts';
import type { LearningEvents } from '../learners/learning-events.ts';
import { readAnswerKey } from '../scenarios/answer-key.ts';
import { scenarioTimeScale, TEST_TIME_SCALE } from '../scenarios/timeline.ts';
import { allMigrations, openSqliteStore } from '../store/index.ts';
import type { LoadedLab } from './labs.ts';
import { labService } from './service.ts';
import { freshClusters } from './cluster-source.ts';
import { fillSolution, runSolution } from './solution.ts';
import { labEngineOn } from '../../lib/lab-engine.ts';

export interface LabTestRow {
  step: string;
  phase: 'untouched' | 'before' | 'solution' | 'after' | 'reset';
  ok: boolean;
  detail: string;
}

export interface LabTestOptions {
  root: string;
  provider: ClusterProvider;
  /** Run the solution only up to this step (1-based), checking every step up to it. */
  untilStep?: number;
  /** Skip the solution of this step (1-based): the mutation test of the test itself. */
  skipStep?: number;
  onRow?: (row: LabTestRow) => void;
  /** Told of the run's learning events, as the server's bus is (tests of what LMSs and LRSs get). */
  events?: LearningEvents;
}

export async function testLab(lab: LoadedLab, options: LabTestOptions): Promise<LabTestRow[]> {
  const work = await mkdtemp(path.join(tmpdir(), `irlab-test-${lab.slug}-`));
  const rows: LabTestRow[] = [];
  const row = (r: LabTestRow) => {
    rows.push(r);
    options.onRow?.(r);
  };
  const store = await openSqliteStore(path.join(work, 'irlab.db'), allMigrations);
  const learner = (await learnerService({ store }).create()).learner.id;
  const workspaceOf = () => path.join(work, 'workspace');
  const service = labService({
    ...(options.events ? { events: options.events } : {}),
    db: store,
    root: options.root,
    labs: async () => [lab],
    clusters: freshClusters(options.provider),
    // `irlab test --provider kind` runs a kind lab; on the embedded engine it is refused with the reason.
    engine: labEngineOn(options.provider.name),
    workspaceOf,
    answerKeys: path.join(work, 'keys'),
    renderMarkdown: async (markdown) => markdown,
    // The incident's minutes of dwell time in a few seconds: same requests, same order, same
    // spacing relative to each other (IRLAB_SCENARIO_TIME_SCALE overrides it).
    scenarioTimeScale: process.env.IRLAB_SCENARIO_TIME_SCALE ? scenarioTimeScale() : TEST_TIME_SCALE,
  });
  const steps = lab.lab.steps.slice(0, options.untilStep ?? lab.lab.steps.length);
  try {
    await service.start(learner, lab.slug);
    const run = (await service.activeRun(learner, lab.slug))!;
    const cluster = (await options.provider.list()).find((c) => c.name === run.cluster)!;
    const key = await readAnswerKey(path.join(work, 'keys'), cluster.name);
    const answersFor = (stepIndex: number) =>
      Object.fromEntries(Object.entries(lab.lab.steps[stepIndex]!.solutionAnswers).map(([id, text]) => [id, fillSolution(text, key)]));
    const failing = (view: { result?: { criteria: Array<{ id: string; passed: boolean; message: string }> } }) =>
      (view.result?.criteria ?? []).filter((c) => !c.passed);

    for (const step of steps) {
      const view = await service.check(learner, lab.slug, step.id, {});
      row({ step: step.id, phase: 'untouched', ok: !view.passed, detail: view.passed ? 'passes on the untouched world: the check proves nothing' : `${failing(view).length} criteria fail, as they should` });
    }
    for (const [index, step] of steps.entries()) {
      const skipped = options.skipStep === index + 1;
      // A skipped step gives no answers either: an investigation step's solution is its answers.
      const answers = skipped ? {} : answersFor(index);
      if (index > 0) {
        // The untouched pass already covered the first step; later ones are checked again once
        // the steps before them are solved, which is when a leaky check would show.
        const before = await service.check(learner, lab.slug, step.id, {});
        row({ step: step.id, phase: 'before', ok: !before.passed, detail: before.passed ? 'passes before its solution ran' : 'fails before its solution, as it should' });
      }
      if (skipped) {
        row({ step: step.id, phase: 'solution', ok: true, detail: 'skipped on purpose (--skip-step): no commands, no answers' });
      } else {
        const runs = await runSolution(step.solution, key, {
          workspace: workspaceOf(),
          // What the learner holds: on kind their own bounded credential, so a step that needs
          // more than a learner may do fails here, not in front of a learner.
          kubeconfig: learnerKubeconfig(cluster, options.provider),
          binDir: binDir(readEngineVersions()),
          applyPolicy: async () => void (await service.applyPolicy(learner, lab.slug)),
          nodeEvidence: (collection, args) => service.nodeEvidence(learner, lab.slug, { collection, args }),
        });
        const broken = runs.find((r) => r.exitCode !== 0);
        row({ step: step.id, phase: 'solution', ok: !broken, detail: broken ? `\`${broken.command.split('\n')[0]}\` exited ${broken.exitCode}: ${broken.output.trim().split('\n').slice(-2).join(' ')}` : `${runs.length} command(s) ran` });
      }
      const after = await service.check(learner, lab.slug, step.id, answers);
      row({ step: step.id, phase: 'after', ok: after.passed, detail: after.passed ? 'all criteria pass' : failing(after).map((c) => `${c.id}: ${c.message}`).join('; ') });
    }
    const before = run.cluster;
    await service.reset(learner, lab.slug);
    const again = await service.start(learner, lab.slug);
    const fresh = again.run?.cluster !== before && again.steps.every((s) => !s.result);
    row({ step: '-', phase: 'reset', ok: fresh, detail: fresh ? `reset gave a fresh cluster (${again.run?.cluster})` : 'reset did not give a fresh, unchecked run' });
    await service.reset(learner, lab.slug);
  } finally {
    for (const cluster of await options.provider.list()) {
      const owned = await store.get('SELECT 1 AS owned FROM lab_runs WHERE cluster = ?', [cluster.name]);
      if (owned) await options.provider.delete(cluster.name).catch(() => {});
    }
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}

export function formatRows(rows: LabTestRow[]): string {
  const width = 12;
  return rows.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.step.padEnd(width)}  ${r.phase.padEnd(9)}  ${r.detail}`).join('\n');
}
