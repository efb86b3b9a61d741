/**
 * A lab step as the learner sees it, from what the store holds about their run: hints taken,
 * checks made (and what repeated ones cost), answers given. Shared by the lab service's views.
 */
import type { CheckResult } from '../../lib/check-result.ts';
import { resultOf } from '../../lib/check-result.ts';
import type { StepView } from '../../lib/lab-view.ts';
import type { LabStep } from '../../schemas/lab.ts';
import type { SqlQueries } from '../store/sql-store.ts';
import { nextCheckCost, RETRY_POLICY, stepScore } from './retry-cost.ts';

/** A check of a step as the store keeps it. */
export interface CheckRow {
  checked_at: string;
  passed: number;
  score: number;
  criteria: string;
  retry_cost: number;
}

/** The checks of a step in a run, oldest first (`seq` orders checks stored in the same millisecond). */
export function checksOf(store: SqlQueries, runId: string, stepId: string): Promise<CheckRow[]> {
  return store.all<CheckRow>('SELECT checked_at, passed, score, criteria, retry_cost FROM lab_results WHERE run_id = ? AND step = ? ORDER BY checked_at, seq', [runId, stepId]);
}

/** Where a learner stands on one step of a run (none: not started): hints taken, checks, score. */
export async function stepStanding(store: SqlQueries, run: { id: string } | undefined, step: LabStep) {
  const [hints, results] = run
    ? await Promise.all([store.all<{ hint: number }>('SELECT hint FROM lab_hints WHERE run_id = ? AND step = ?', [run.id, step.id]), checksOf(store, run.id, step.id)])
    : [[], []];
  return standingOf(step, hints.map((r) => r.hint), results);
}

/** A step's standing from the hints taken and the checks made (oldest first). */
export function standingOf(step: LabStep, hints: Iterable<number>, results: CheckRow[]) {
  const taken = new Set(hints);
  const past = results.map((r) => ({ score: r.score, passed: r.passed === 1, retryCost: r.retry_cost }));
  const cost = step.hints.reduce((sum, hint, index) => sum + (taken.has(index) ? hint.cost : 0), 0);
  const answerStep = step.questions.length > 0;
  return {
    taken,
    results,
    score: stepScore(past, cost),
    passed: past.some((r) => r.passed),
    nextCheckCost: nextCheckCost(answerStep, past),
    ...(answerStep ? { freeLeft: Math.max(0, RETRY_POLICY.free - results.length) } : {}),
  };
}

/** A step as the learner sees it: never an answer key, and a hint's text only once taken. */
export async function stepView(store: SqlQueries, renderMarkdown: (markdown: string) => Promise<string>, run: { id: string } | undefined, step: LabStep): Promise<StepView> {
  const { taken, results, score, passed, nextCheckCost: nextCost, freeLeft } = await stepStanding(store, run, step);
  const last = results.at(-1);
  const answers = run
    ? Object.fromEntries(
        (await store.all<{ question: string; answer: string }>('SELECT question, answer FROM lab_answers WHERE run_id = ?', [run.id]))
          .filter((r) => step.questions.some((q) => q.id === r.question))
          .map((r) => [r.question, r.answer]),
      )
    : {};
  return {
    id: step.id,
    title: step.title,
    bodyHtml: await renderMarkdown(step.body),
    canApplyPolicy: step.checks.includes('audit-policy'),
    // Rendered only once taken: an untaken hint's text never leaves the server, in any form.
    hints: await Promise.all(
      step.hints.map(async (hint, index) => ({ index, cost: hint.cost, ...(taken.has(index) ? { text: hint.text, html: await renderMarkdown(hint.text) } : {}) })),
    ),
    questions: step.questions.map((q) => ({ id: q.id, prompt: q.prompt, ...(q.placeholder ? { placeholder: q.placeholder } : {}) })),
    answers,
    ...(last ? { result: { ...resultOf(JSON.parse(last.criteria) as CheckResult['criteria']), checkedAt: last.checked_at } } : {}),
    score,
    passed,
    ...(freeLeft !== undefined ? { retry: { nextCost, freeLeft, cost: RETRY_POLICY.cost } } : {}),
  };
}
