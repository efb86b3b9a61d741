/**
 * Grading the canonical table. The same grader serves the static check (levels predicted by the
 * evaluator) and the live check (levels the API server recorded), so a learner reads the same
 * criteria and the same kind of message from both.
 */
import { checkResult, type CheckCriterion, type CheckResult } from '../check-result.ts';
import { CANONICAL_REQUESTS, type CanonicalRequest, type CriterionId } from './canonical.ts';
import { atLeast, type AuditLevel } from './types.ts';

export interface RowOutcome {
  level: AuditLevel;
  /** The first matching rule's index; null when no rule matched; undefined when not known. */
  rule?: number | null;
  /** Whether the request's RequestReceived stage is (or would be) recorded. */
  requestReceivedLogged: boolean;
  /** The identity the request was made as, for messages. */
  user: string;
}

export interface GradedRow {
  request: CanonicalRequest;
  outcome: RowOutcome;
  /** Undefined for rows that are shown but not graded. */
  passed?: boolean;
}

export interface GradeOptions {
  /** `rules[3] (line 22: ...)` for a rule index; omitted when rules are unknown. */
  describeRule?: (index: number) => string;
  /** Static: "is logged at"; live: "was recorded at". */
  mode: 'static' | 'live';
}

export interface Graded {
  result: CheckResult;
  rows: GradedRow[];
}

interface CriterionSpec {
  id: Exclude<CriterionId, 'policy-accepted' | 'request-received-omitted'>;
  /** Plural noun phrase for messages. */
  what: string;
  /** The rule to add. */
  fix: string;
  /** What to put above a rule that catches these requests at too low a level, when not `fix`. */
  fixAbove?: string;
}

const CRITERIA: readonly CriterionSpec[] = [
  {
    id: 'secrets-at-request',
    what: 'secrets requests',
    fix: 'a secrets rule, - {level: Request, resources: [{group: "", resources: ["secrets"]}]},',
  },
  {
    id: 'rbac-changes-at-request-response',
    what: 'RBAC changes',
    fix: 'an RBAC rule, - {level: RequestResponse, resources: [{group: "rbac.authorization.k8s.io", resources: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]}]},',
  },
  {
    id: 'pod-exec-at-request',
    what: 'exec, attach and port-forward requests',
    fix: 'a rule for them, - {level: Request, resources: [{group: "", resources: ["pods/exec", "pods/attach", "pods/portforward"]}]},',
  },
  {
    id: 'nodes-namespaces-at-metadata',
    what: 'node and namespace requests',
    fix: 'a rule for them, - {level: Metadata, resources: [{group: "", resources: ["nodes", "namespaces"]}]},',
  },
  {
    id: 'everything-else-at-metadata',
    what: 'other requests',
    fix: 'a catch-all at the end of the rules, - {level: Metadata},',
    fixAbove: 'a Metadata rule that matches them (or narrow that rule so it does not catch them)',
  },
];

export const CRITERION_IDS: readonly CriterionId[] = ['policy-accepted', ...CRITERIA.map((c) => c.id), 'request-received-omitted'];

/** Every criterion failed with the same reason: the policy was refused, so nothing else was checked. */
export function refusedResult(reason: string): CheckResult {
  return checkResult(
    CRITERION_IDS.map((id) => ({
      id,
      passed: false,
      message: id === 'policy-accepted' ? reason : 'not checked: the API server refuses this policy (see policy-accepted)',
    })),
  );
}

export function gradeOutcomes(
  outcomes: ReadonlyMap<string, RowOutcome>,
  options: GradeOptions,
  acceptedMessage = 'the API server accepts the policy',
  requests: readonly CanonicalRequest[] = CANONICAL_REQUESTS,
): Graded {
  const rows: GradedRow[] = [];
  for (const request of requests) {
    const outcome = outcomes.get(request.id);
    if (!outcome) continue;
    const passed = request.minimum ? atLeast(outcome.level, request.minimum) : undefined;
    rows.push(passed === undefined ? { request, outcome } : { request, outcome, passed });
  }
  const criteria: CheckCriterion[] = [{ id: 'policy-accepted', passed: true, message: acceptedMessage }];
  for (const c of CRITERIA) criteria.push(gradeCriterion(c, rows.filter((r) => r.request.criterion === c.id), options));
  criteria.push(gradeRequestReceived(rows, options));
  return { result: checkResult(criteria), rows };
}

function gradeCriterion(c: CriterionSpec, rows: GradedRow[], options: GradeOptions): CheckCriterion {
  const minimum = rows[0]?.request.minimum ?? 'Metadata';
  const needs = minimum === 'RequestResponse' ? 'RequestResponse' : `at least ${minimum}`;
  const failing = rows.filter((r) => r.passed === false);
  const warning = secretWarning(rows, options);
  const extra = warning ? { warning } : {};
  if (failing.length === 0) {
    const levels = [...new Set(rows.map((r) => `${r.outcome.level}${byRule(r.outcome, options, true)}`))];
    const above = needs === 'RequestResponse' ? 'RequestResponse' : `${minimum} or above`;
    return { id: c.id, passed: true, message: `all ${rows.length} ${c.what} ${verb(options)} ${above} (${levels.join('; ')})`, ...extra };
  }
  const shown = groupByOutcome(failing)
    .slice(0, 3)
    .map((group) => {
      const names = group.map((r) => r.request.describe);
      const list = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : joinAnd(names);
      return `${list} (as ${group[0]!.outcome.user}) ${outcomeText(group[0]!.outcome, options, group.length > 1)}`;
    });
  const groups = groupByOutcome(failing).length;
  const more = groups > shown.length ? `; and ${groups - shown.length} more group${groups - shown.length === 1 ? '' : 's'}` : '';
  const first = failing[0]!.outcome;
  const where = typeof first.rule === 'number' && options.describeRule
    ? `put ${c.fixAbove ?? c.fix} above rules[${first.rule}]`
    : `add ${c.fix}${first.rule === null ? ' (no rule matches these requests now)' : ''}`;
  return {
    id: c.id,
    passed: false,
    message: `${failing.length} of ${rows.length} ${c.what} ${failing.length === 1 ? 'needs' : 'need'} ${needs}: ${shown.join('; ')}${more}. Fix: ${where}`,
    ...extra,
  };
}

function gradeRequestReceived(rows: GradedRow[], options: GradeOptions): CheckCriterion {
  const logged = rows.filter((r) => r.outcome.level !== 'None' && r.outcome.requestReceivedLogged);
  if (logged.length === 0) {
    return { id: 'request-received-omitted', passed: true, message: 'no request records a RequestReceived stage: one event per request, written when the response is complete' };
  }
  const example = logged[0]!;
  const recorded = options.mode === 'live' ? 'were recorded with' : 'record';
  return {
    id: 'request-received-omitted',
    passed: false,
    message:
      `${logged.length} of ${rows.length} requests ${recorded} a RequestReceived event as well as ResponseComplete, e.g. ${example.request.describe}${byRule(example.outcome, options)}: ` +
      'the log doubles and the first event lacks the response status. Fix: add "omitStages: [RequestReceived]" at the top level of the policy (it then applies to every rule)',
  };
}

/** Which requests write secret material into the log at the level they get. */
function secretWarning(rows: GradedRow[], options: GradeOptions): string | undefined {
  const bodies = rows.filter((r) => r.request.carriesSecret?.request && atLeast(r.outcome.level, 'Request'));
  const responses = rows.filter((r) => r.request.carriesSecret?.response && r.outcome.level === 'RequestResponse');
  if (bodies.length === 0 && responses.length === 0) return undefined;
  const parts: string[] = [];
  const names = (list: GradedRow[]) => list.map((r) => r.request.describe).join(', ');
  if (bodies.length) {
    parts.push(
      `${names(bodies)} ${verb(options)} ${[...new Set(bodies.map((r) => r.outcome.level))].join(' or ')}, so their request bodies (${[...new Set(bodies.map((r) => r.request.carriesSecret!.what))].join(', ')}) are written to the log`,
    );
  }
  if (responses.length) {
    parts.push(`${names(responses)} ${verb(options)} RequestResponse, so their responses (${[...new Set(responses.map((r) => r.request.carriesSecret!.what))].join(', ')}) are written to the log`);
  }
  return (
    `secret values end up in the audit log: ${parts.join('; and ')}. Base64 in a Secret is encoding, not encryption. ` +
    'A get, list, watch or delete at Request writes no secret data (only writes carry it in their body). ' +
    'Whoever can read the audit log, or wherever it is shipped, can read these secrets: protect the log like the secrets themselves, and keep secrets and tokens below RequestResponse.'
  );
}

function verb(options: GradeOptions): string {
  return options.mode === 'live' ? 'were recorded at' : 'are logged at';
}

function byRule(outcome: RowOutcome, options: GradeOptions, short = false): string {
  if (outcome.rule === undefined || !options.describeRule) return '';
  if (outcome.rule === null) return short ? ' (no rule matches)' : ' (no rule matches it)';
  return ` by ${short ? `rules[${outcome.rule}]` : options.describeRule(outcome.rule)}`;
}

function outcomeText(outcome: RowOutcome, options: GradeOptions, plural: boolean): string {
  const live = options.mode === 'live';
  const [is, was, it] = plural ? ['are', 'were', 'them'] : ['is', 'was', 'it'];
  if (outcome.level === 'None') {
    if (outcome.rule === null) return live ? `left no audit event (level None: no rule matches ${it})` : `${is} not logged at all: no rule matches ${it}, so the level is None`;
    if (outcome.rule !== undefined && options.describeRule) {
      return live ? `left no audit event: level None, from ${options.describeRule(outcome.rule)}` : `${is} dropped (level None) by ${options.describeRule(outcome.rule)}`;
    }
    return live ? 'left no audit event (level None)' : `${is} not logged (level None)`;
  }
  return `${live ? `${was} recorded at` : `${is} logged at`} ${outcome.level}${byRule(outcome, options)}`;
}

/** Rows with the same level, rule and identity, in table order. */
function groupByOutcome(rows: readonly GradedRow[]): GradedRow[][] {
  const groups = new Map<string, GradedRow[]>();
  for (const r of rows) {
    const key = `${r.outcome.level}|${r.outcome.rule}|${r.outcome.user}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
