/**
 * Grading the canonical table. The same grader serves the static check (levels predicted by the
 * evaluator) and the live check (levels the API server recorded), so a learner reads the same
 * criteria and the same kind of message from both.
 */
import { checkResult, type CheckCriterion, type CheckResult } from '../check-result.ts';
import { CANONICAL_REQUESTS, type CanonicalRequest, type CriterionId, type RowCriterionId, type SweepIdentity } from './canonical.ts';
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

/** A graded request that, made by another identity, got less than its minimum (identity-specific). */
export interface BlindedRow {
  request: CanonicalRequest;
  /** What kind of identity, never which one: the sweep's names include the scenario's. */
  kind: SweepIdentity['kind'];
  outcome: RowOutcome;
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
  id: RowCriterionId;
  /** Plural noun phrase for messages. */
  what: string;
  /** The rule to add. */
  fix: string;
  /** What to put above a rule that catches these requests at too low a level, when not `fix`. */
  fixAbove?: string;
}

const CRITERIA: readonly CriterionSpec[] = [
  {
    id: 'secrets-audited',
    what: 'secrets requests',
    fix: 'a secrets rule, - {level: Metadata, resources: [{group: "", resources: ["secrets"]}]},',
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

export const CRITERION_IDS: readonly CriterionId[] = ['policy-accepted', ...CRITERIA.map((c) => c.id), 'every-identity-audited', 'response-bodies-bounded', 'request-received-omitted'];

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
  blinded: readonly BlindedRow[] = [],
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
  criteria.push(gradeIdentities(blinded, options), gradeResponseBodies(rows, options), gradeRequestReceived(rows, options));
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
    const tradeOff = c.id === 'secrets-audited' ? secretsTradeOff(rows) : '';
    return { id: c.id, passed: true, message: `all ${rows.length} ${c.what} ${verb(options)} ${above} (${levels.join('; ')})${tradeOff}`, ...extra };
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

/** What the level chosen for secrets keeps and what it gives up (Metadata is a sound choice). */
function secretsTradeOff(rows: readonly GradedRow[]): string {
  const levels = new Set(rows.map((r) => r.outcome.level));
  if (levels.has('Metadata')) {
    return '. At Metadata the log shows who read, listed or changed which secret, and no request or response body, so no secret value lands in the log; the price is no record of what was written into a secret';
  }
  if (levels.has('Request')) return '. At Request the log keeps what was written into a secret (the value itself), so protect the log like the secrets';
  return '';
}

/**
 * A rule that lowers the level for some identities (level None, or below a criterion's minimum)
 * blinds the log to whoever holds their credentials: the attacker works with whichever token
 * they stole. The message names the rule (the learner's own text), the kind of identity and the
 * requests, never which identity: that would name the scenario's.
 */
function gradeIdentities(blinded: readonly BlindedRow[], options: GradeOptions): CheckCriterion {
  const id = 'every-identity-audited';
  if (blinded.length === 0) {
    return {
      id,
      passed: true,
      message: options.mode === 'live'
        ? 'requests made as other service accounts (from every namespace) and as the admin were recorded at the same levels'
        : 'no rule lowers the level for particular identities: the graded requests are logged the same whichever service account, user, node or admin makes them',
    };
  }
  const groups = new Map<string, BlindedRow[]>();
  for (const b of blinded) {
    const key = `${b.outcome.rule}|${b.kind}|${b.outcome.level}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  const shown = [...groups.values()].slice(0, 2).map((group) => {
    const names = [...new Set(group.map((b) => b.request.describe))];
    const list = names.length > 3 ? `${names.slice(0, 3).join(', ')} and others` : joinAnd(names);
    const first = group[0]!;
    const kinds = `some ${first.kind === 'admin' ? 'administrators' : `${first.kind}s`}`;
    const minimum = first.request.minimum ?? 'Metadata';
    const level = first.outcome.level === 'None' ? (options.mode === 'live' ? 'left no audit event' : 'is not logged at all (level None)') : `${verb(options)} ${first.outcome.level}, below ${minimum}`;
    return `${list}, made by ${kinds}, ${level}${byRule(first.outcome, options)}`;
  });
  const rule = blinded.find((b) => typeof b.outcome.rule === 'number')?.outcome.rule;
  const where = typeof rule === 'number' && options.describeRule ? `look at rules[${rule}]: narrow it to known noise or remove it` : 'look for a rule with users or userGroups above the rules that should catch these requests';
  return {
    id,
    passed: false,
    message:
      `a rule blinds the log to some identities that could act in an incident: ${shown.join('; ')}. ` +
      'An attacker works with whichever credential they stole, from any namespace; exempt only well-known noise (health checks, kube-proxy\'s watches, events). ' +
      `Fix: ${where}`,
  };
}

/**
 * RequestResponse on routine reads as well as on secrets and tokens: every secret value, every
 * minted token and every list body lands in the log. That log is then a second copy of every
 * credential, shipped wherever logs go, and many times the size; an IR practitioner would send
 * such a policy back. RequestResponse on secrets alone, chosen deliberately, passes with a warning.
 */
function gradeResponseBodies(rows: readonly GradedRow[], options: GradeOptions): CheckCriterion {
  const id = 'response-bodies-bounded';
  const routine = rows.filter((r) => r.request.criterion === 'everything-else-at-metadata' && r.request.method === 'GET' && !r.request.carriesSecret);
  const routineFull = routine.filter((r) => r.outcome.level === 'RequestResponse');
  const secretFull = rows.filter((r) => r.request.carriesSecret?.response && r.outcome.level === 'RequestResponse');
  const broad = routineFull.length > 0 && routineFull.length * 2 >= routine.length;
  if (!broad || secretFull.length === 0) {
    return { id, passed: true, message: 'response bodies are kept for chosen requests, not for every read: the log stays a log, not a copy of every secret' };
  }
  const example = secretFull[0]!;
  return {
    id,
    passed: false,
    message:
      `response bodies are logged for routine reads and for secrets and tokens alike, e.g. ${routineFull[0]!.request.describe} and ${example.request.describe} ${verb(options)} RequestResponse${byRule(example.outcome, options)}: ` +
      'every secret value and minted token is copied into the log, and every list is written out whole, so the log becomes a credential store many times its size. ' +
      'Fix: keep RequestResponse for what you must see in full (RBAC changes), record secrets and tokens at Metadata (or Request), and end with a Metadata catch-all',
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
