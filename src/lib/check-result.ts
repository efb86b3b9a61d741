/**
 * What every lab check returns: one verdict per criterion, each with a message that says what is
 * missing and how to fix it, so a learner gets feedback per criterion and partial credit.
 * Pure data, shared by the server (which computes it) and the browser (which shows it).
 */

export interface CheckCriterion {
  /** Stable, kebab-case: the UI and stored progress key on it. */
  id: string;
  passed: boolean;
  /** What was found and, when failed, what to change; written for the learner. */
  message: string;
  /**
   * Something the learner should know even though it does not fail the criterion (e.g. an audit
   * policy that writes secret data into the log). Absent when there is nothing to say.
   */
  warning?: string;
}

export interface CheckResult {
  /** True when every criterion passed. */
  passed: boolean;
  /** Share of criteria passed, 0 to 1 (the lab scales it by the step's points). */
  score: number;
  criteria: CheckCriterion[];
}

/** Builds a CheckResult from its criteria: passed when all passed, score the share that did. */
export function checkResult(criteria: CheckCriterion[]): CheckResult {
  const passed = criteria.filter((c) => c.passed).length;
  return {
    passed: criteria.length > 0 && passed === criteria.length,
    score: criteria.length === 0 ? 0 : Math.round((passed / criteria.length) * 1000) / 1000,
    criteria,
  };
}

/** Names the lab checks use for the same shapes. */
export type CriterionResult = CheckCriterion;
export const resultOf = checkResult;
