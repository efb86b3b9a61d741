/** What every check returns: a verdict per criterion, so feedback says exactly what is missing. */
export interface CriterionResult {
  id: string;
  passed: boolean;
  message: string;
}

export interface CheckResult {
  passed: boolean;
  /** 0 to 1: the share of criteria met (partial credit). */
  score: number;
  criteria: CriterionResult[];
}

/** Builds a result from its criteria: passed when all pass, score the share that pass. */
export function resultOf(criteria: CriterionResult[]): CheckResult {
  const passed = criteria.filter((c) => c.passed).length;
  return { passed: criteria.length > 0 && passed === criteria.length, score: criteria.length ? passed / criteria.length : 0, criteria };
}
