/**
 * The static audit-policy check: load the policy as the API server would, evaluate every
 * canonical request, grade. Pure, so it runs in `irlab policy check`, in the lab's checker and,
 * later, in the browser as the learner types.
 */
import type { CheckResult } from '../check-result.ts';
import { CANONICAL_REQUESTS, DEFAULT_IDENTITIES, type CanonicalIdentities, type CanonicalRequest } from './canonical.ts';
import { describeRule } from './describe.ts';
import { evaluatePolicy } from './evaluate.ts';
import { gradeOutcomes, refusedResult, type GradedRow, type RowOutcome } from './grade.ts';
import { requestAttributes } from './request-info.ts';
import type { AuditDecision, AuditPolicy, PolicyProblem, RequestAttributes } from './types.ts';
import { loadPolicy, type LoadedPolicy } from './validate.ts';

export interface StaticRow extends GradedRow {
  attributes: RequestAttributes;
  decision: AuditDecision;
}

export interface StaticCheck {
  loaded: LoadedPolicy;
  result: CheckResult;
  /** Empty when the policy is refused. */
  rows: StaticRow[];
}

export function checkPolicyText(text: string, identities: CanonicalIdentities = DEFAULT_IDENTITIES): StaticCheck {
  const loaded = loadPolicy(text);
  if (!loaded.policy) return { loaded, result: refusedResult(refusalMessage(loaded.errors)), rows: [] };
  return { loaded, ...checkPolicy(loaded.policy, identities) };
}

export function checkPolicy(policy: AuditPolicy, identities: CanonicalIdentities = DEFAULT_IDENTITIES): { result: CheckResult; rows: StaticRow[] } {
  const predictions = new Map<string, { attributes: RequestAttributes; decision: AuditDecision; outcome: RowOutcome }>();
  for (const request of CANONICAL_REQUESTS) predictions.set(request.id, predict(policy, request, identities));
  const outcomes = new Map([...predictions].map(([id, p]) => [id, p.outcome]));
  const graded = gradeOutcomes(outcomes, { mode: 'static', describeRule: (i) => describeRule(policy, i) });
  const rows = graded.rows.map((row) => {
    const p = predictions.get(row.request.id)!;
    return { ...row, attributes: p.attributes, decision: p.decision };
  });
  return { result: graded.result, rows };
}

/** What the API server would do with one canonical request. */
export function predict(policy: AuditPolicy, request: CanonicalRequest, identities: CanonicalIdentities) {
  const identity = identities[request.as];
  const attributes = requestAttributes({ method: request.method, path: request.path }, identity);
  const decision = evaluatePolicy(policy, attributes);
  const outcome: RowOutcome = {
    level: decision.level,
    rule: decision.rule,
    requestReceivedLogged: decision.level !== 'None' && !decision.omitStages.includes('RequestReceived'),
    user: identity.user,
  };
  return { attributes, decision, outcome };
}

/** Refusals a message lists; the rest are counted (a file of a thousand bad rules is not echoed back). */
export const REFUSALS_SHOWN = 3;

/** One line per refusal: `rules[0].level (line 5): "Verbose" is not a level; use one of ...`. */
export function refusalMessage(errors: readonly PolicyProblem[]): string {
  const reasons = errors.slice(0, REFUSALS_SHOWN).map((e) => {
    const where = [e.path, e.line === undefined ? '' : `line ${e.line}`].filter(Boolean).join(', ');
    return `${where ? `${where}: ` : ''}${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  });
  const more = errors.length - reasons.length;
  return `the API server refuses this policy: ${reasons.join('; ')}${more > 0 ? `; and ${more} more refusal${more === 1 ? '' : 's'} after these` : ''}`;
}
