import type { StepView } from '../../lib/lab-view.ts';

/** Where a step stands, as the rail and the step's heading show it. */
export type StepState = 'done' | 'failing' | 'unchecked';

export interface StepStatus {
  state: StepState;
  /** The heading's words: "✓ done", "✗ not yet" or "not checked". */
  label: string;
  /**
   * The step passed once (it stays done, best score kept) but its latest check did not: said,
   * so a ✗ list under "✓ done" is no contradiction.
   */
  latestFailed: boolean;
}

export function stepStatus(step: StepView): StepStatus {
  if (step.passed) return { state: 'done', label: '✓ done', latestFailed: Boolean(step.result && !step.result.passed) };
  if (step.result) return { state: 'failing', label: '✗ not yet', latestFailed: false };
  return { state: 'unchecked', label: 'not checked', latestFailed: false };
}

/** The step a learner is on when they have not opened one: the first not passed. */
export function firstOpenStep(steps: readonly StepView[]): string | undefined {
  return steps.find((s) => !s.passed)?.id;
}
