/**
 * A learner's lab runs as the progress page lists them: every run, newest first, each step's
 * state and score as the lab page showed it (step-view.ts's standing).
 */
import type { SqlQueries } from '../store/sql-store.ts';
import type { LoadedLab } from './labs.ts';
import { runsOf } from './lab-runs.ts';
import { stepStanding } from './step-view.ts';

/** One lab run as the progress page lists it. */
export interface LabRunSummary {
  lab: string;
  title: string;
  startedAt: string;
  /** Absent while the run (and its cluster) is still going. */
  endedAt: string | undefined;
  steps: Array<{ id: string; title: string; state: 'done' | 'not yet' | 'not checked'; score: number }>;
  /** Mean of the step scores, 0 to 1. */
  score: number;
}

/** Every run of the learner of a lab still in `labs`, newest first. */
export async function runSummaries(store: SqlQueries, labs: readonly LoadedLab[], learnerId: string): Promise<LabRunSummary[]> {
  const runs = await runsOf(store, learnerId);
  const summaries = await Promise.all(
    runs.map(async (run) => {
      const lab = labs.find((l) => l.slug === run.lab);
      if (!lab) return [];
      const steps = await Promise.all(
        lab.lab.steps.map(async (step) => {
          const { results, score, passed } = await stepStanding(store, run, step);
          return { id: step.id, title: step.title, state: passed ? 'done' : results.length ? 'not yet' : 'not checked', score } as const;
        }),
      );
      return [{ lab: lab.slug, title: lab.lab.title, startedAt: run.started_at, endedAt: run.ended_at ?? undefined, steps, score: steps.reduce((sum, s) => sum + s.score, 0) / steps.length }];
    }),
  );
  return summaries.flat();
}
