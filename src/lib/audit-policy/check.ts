/**
 * The static audit-policy check: load the policy as the API server would, evaluate every
 * canonical request, grade. Pure, so it runs in `irlab policy check`, in the lab's checker and,
 * later, in the browser as the learner types.
 */
import type { CheckResult } from '../check-result.ts';
import { CANONICAL_REQUESTS, DEFAULT_IDENTITIES, SWEEP_IDENTITIES, type CanonicalIdentities, type CanonicalRequest, type SweepIdentity } from './canonical.ts';
import { describeRule } from './describe.ts';
import { evaluatePolicy } from './evaluate.ts';
import { gradeOutcomes, refusedResult, type BlindedRow, type GradedRow, type RowOutcome } from './grade.ts';
import { isLongRunning, requestAttributes } from './request-info.ts';
import { atLeast, type AuditDecision, type AuditPolicy, type AuditStage, type PolicyProblem, type RequestAttributes } from './types.ts';
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
  const blinded = sweepIdentities(policy, CANONICAL_REQUESTS, SWEEP_IDENTITIES);
  const graded = gradeOutcomes(outcomes, { mode: 'static', describeRule: (i) => describeRule(policy, i) }, undefined, CANONICAL_REQUESTS, blinded);
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
    level: recordedLevel(decision, attributes),
    rule: decision.rule,
    requestReceivedLogged: decision.level !== 'None' && !decision.omitStages.includes('RequestReceived'),
    user: identity.user,
  };
  return { attributes, decision, outcome };
}

/**
 * Every graded request evaluated as every sweep identity: the ones that fall below their minimum
 * because of a rule that selects by identity (users or userGroups). A rule for everyone that logs
 * too little is the level criteria's to report; this one is about rules that blind some identities.
 */
export function sweepIdentities(policy: AuditPolicy, requests: readonly CanonicalRequest[], identities: readonly SweepIdentity[]): BlindedRow[] {
  const blinded: BlindedRow[] = [];
  for (const request of requests) {
    if (!request.minimum || !request.criterion) continue;
    for (const identity of identities) {
      if (identity.skip?.includes(request.criterion)) continue;
      const attributes = requestAttributes({ method: request.method, path: request.path }, identity);
      const decision = evaluatePolicy(policy, attributes);
      const level = recordedLevel(decision, attributes);
      if (atLeast(level, request.minimum) || decision.rule === null) continue;
      const rule = policy.rules[decision.rule]!;
      if (rule.users.length === 0 && rule.userGroups.length === 0) continue;
      blinded.push({
        request,
        kind: identity.kind,
        outcome: { level, rule: decision.rule, requestReceivedLogged: false, user: identity.user },
      });
    }
  }
  return blinded;
}

/**
 * The level an event would show, or None when the rule omits every stage the request emits (a
 * Metadata rule with `omitStages: [ResponseComplete]` plus a global RequestReceived omission
 * records nothing for a get): the effect, not the rule's label.
 */
export function recordedLevel(decision: AuditDecision, attributes: RequestAttributes): AuditDecision['level'] {
  if (decision.level === 'None') return 'None';
  const emitted: AuditStage[] = isLongRunning(attributes) ? ['RequestReceived', 'ResponseStarted', 'ResponseComplete'] : ['RequestReceived', 'ResponseComplete'];
  return emitted.some((stage) => !decision.omitStages.includes(stage)) ? decision.level : 'None';
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
