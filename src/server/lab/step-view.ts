/**
 * A lab step as the learner sees it, from what the store holds about their run: hints taken,
 * checks made (and what repeated ones cost), answers given. Shared by the lab service's views.
 */
import type { CheckResult } from '../../lib/check-result.ts';
import { resultOf } from '../../lib/check-result.ts';
import type { StepView } from '../../lib/lab-view.ts';
import type { LabStep } from '../../schemas/lab.ts';
import type { Store } from '../store/database.ts';
import { nextCheckCost, RETRY_POLICY, stepScore } from './retry-cost.ts';

/** Where a learner stands on one step of a run (none: not started): hints taken, checks, score. */
export function stepStanding(store: Store, run: { id: string } | undefined, step: LabStep) {
  const taken = new Set(
    run ? (store.prepare('SELECT hint FROM lab_hints WHERE run_id = ? AND step = ?').all(run.id, step.id) as Array<{ hint: number }>).map((r) => r.hint) : [],
  );
  // rowid breaks ties between checks stored in the same millisecond.
  const results = run
    ? (store.prepare('SELECT * FROM lab_results WHERE run_id = ? AND step = ? ORDER BY checked_at, rowid').all(run.id, step.id) as Array<{ checked_at: string; passed: number; score: number; criteria: string; retry_cost: number }>)
    : [];
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
export async function stepView(store: Store, renderMarkdown: (markdown: string) => Promise<string>, run: { id: string } | undefined, step: LabStep): Promise<StepView> {
  const { taken, results, score, passed, nextCheckCost: nextCost, freeLeft } = stepStanding(store, run, step);
  const last = results.at(-1);
  const answers = run
    ? Object.fromEntries(
        (store.prepare('SELECT question, answer FROM lab_answers WHERE run_id = ?').all(run.id) as Array<{ question: string; answer: string }>)
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
