/**
 * Repeated checks of an answer step cost points, so guessing through the checker does not pay:
 * an answer step (one with questions) gets a few free checks, then each further check before the
 * step passes costs a share of the step, down to a floor. The cost of every check is stored with
 * its result when it is made (lab_results.retry_cost), so the learner's past is never repriced.
 * Steps graded on the cluster's state (no questions) are free to re-check: their verdict says
 * what the cluster holds, not whether a guess was right.
 */

export interface RetryPolicy {
  /** Checks of a step that cost nothing. */
  free: number;
  /** Share of the step each further check costs. */
  cost: number;
  /** Share of the step that retries can never take away (the step keeps at least 1 − maxTotal). */
  maxTotal: number;
}

export const RETRY_POLICY: RetryPolicy = { free: 3, cost: 0.05, maxTotal: 0.5 };

export interface PastCheck {
  /** Share charged for this check when it was made. */
  retryCost: number;
  passed: boolean;
}

/** What the next check of a step costs, given the step's checks so far (oldest first). */
export function nextCheckCost(answerStep: boolean, past: readonly PastCheck[], policy: RetryPolicy = RETRY_POLICY): number {
  if (!answerStep || past.some((c) => c.passed) || past.length < policy.free) return 0;
  const charged = past.reduce((sum, c) => sum + c.retryCost, 0);
  return round(Math.max(0, Math.min(policy.cost, policy.maxTotal - charged)));
}

/**
 * A step's score from its checks: each check's score is scaled by what retries had cost by then
 * (that check included), the best one counts, and hints taken are subtracted.
 */
export function stepScore(past: ReadonlyArray<PastCheck & { score: number }>, hintCost: number, policy: RetryPolicy = RETRY_POLICY): number {
  let charged = 0;
  let best = 0;
  for (const check of past) {
    charged = Math.min(policy.maxTotal, charged + check.retryCost);
    best = Math.max(best, check.score * (1 - charged));
  }
  return Math.max(0, round(best - hintCost));
}

function round(share: number): number {
  return Math.round(share * 10_000) / 10_000;
}
