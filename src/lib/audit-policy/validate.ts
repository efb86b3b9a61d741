/**
 * The API server's acceptance rules for a decoded policy (k8s.io/apiserver
 * pkg/apis/audit/validation/validation.go, then reader.go's "0 rules" check), as errors; and, as
 * warnings, what it accepts but almost certainly does not mean (a resource string that can never
 * match, a "*" where no wildcard exists, a rule hidden behind a catch-all).
 */
import { excerpt, quoted } from '../excerpt.ts';
import { groupsServing, KNOWN_RESOURCES, KNOWN_VERBS } from './known-resources.ts';
import { formatPolicyPath, noLocation, parsePolicyText, decodePolicy, type Locator } from './parse.ts';
import { AUDIT_LEVELS, AUDIT_STAGES, type AuditPolicy, type PolicyProblem, type PolicyRule } from './types.ts';

type Path = readonly PropertyKey[];

export interface LoadedPolicy {
  /** Present only when the API server would accept the policy. */
  policy?: AuditPolicy;
  /** Refusals: the API server would not start with this policy. */
  errors: PolicyProblem[];
  /** Accepted, but probably not what was meant. */
  warnings: PolicyProblem[];
}

/** Parses, decodes and validates policy text; `policy` is set when kube-apiserver would accept it. */
export function loadPolicy(text: string): LoadedPolicy {
  const parsed = parsePolicyText(text);
  return split(withValidation(parsed.problems, parsed.policy, parsed.locate), parsed.policy);
}

/** The same, for a policy already parsed into a plain object (e.g. from JSON). */
export function loadPolicyObject(value: unknown): LoadedPolicy {
  const decoded = decodePolicy(value);
  return split(withValidation(decoded.problems, decoded.policy, noLocation), decoded.policy);
}

function withValidation(decoding: PolicyProblem[], policy: AuditPolicy | undefined, locate: Locator): PolicyProblem[] {
  if (!policy) return decoding;
  // A "rules" that failed to decode is already reported; "no rules" on top would say it twice.
  const decodedPaths = new Set(decoding.filter((p) => p.severity === 'error').map((p) => p.path));
  const validation = validatePolicy(policy, locate).filter((p) => !(p.path === 'rules' && decodedPaths.has('rules')));
  return [...decoding, ...validation];
}

function split(unsorted: PolicyProblem[], policy: AuditPolicy | undefined): LoadedPolicy {
  const problems = unsorted.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i).map(({ p }) => p);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  return errors.length === 0 && policy ? { policy, errors, warnings } : { errors, warnings };
}

/** Every refusal (severity error) and warning for a decoded policy. */
export function validatePolicy(policy: AuditPolicy, locate: Locator = noLocation): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const problem = (severity: PolicyProblem['severity'], path: Path, message: string, hint?: string) =>
    out.push({ severity, path: formatPolicyPath(path), ...locate(path), message, ...(hint ? { hint } : {}) });

  checkStages(policy.omitStages, ['omitStages'], problem);
  policy.rules.forEach((rule, i) => checkRule(rule, ['rules', i], problem));
  if (policy.rules.length === 0) {
    problem('error', ['rules'], 'the policy has no rules (the API server refuses "a policy with 0 rules")', 'add at least one rule, e.g. "rules: [{level: Metadata}]"');
  }
  warnUnreachable(policy.rules, problem);
  return out;
}

type Report = (severity: PolicyProblem['severity'], path: Path, message: string, hint?: string) => void;

function checkStages(stages: readonly string[], path: Path, problem: Report): void {
  stages.forEach((stage, i) => {
    if (!(AUDIT_STAGES as readonly string[]).includes(stage)) {
      const near = AUDIT_STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
      problem('error', [...path, i], `${quoted(stage)} is not a stage`, near ? `write "${near}" (stages are case-sensitive)` : `use one of ${AUDIT_STAGES.join(', ')}`);
    }
  });
}

function checkRule(rule: PolicyRule, path: Path, problem: Report): void {
  const level = rule.level as string;
  if (level === '') {
    problem('error', [...path, 'level'], 'level is required', `add "level:" with one of ${AUDIT_LEVELS.join(', ')}`);
  } else if (!(AUDIT_LEVELS as readonly string[]).includes(level)) {
    const near = AUDIT_LEVELS.find((l) => l.toLowerCase() === level.toLowerCase());
    problem('error', [...path, 'level'], `${quoted(level)} is not a level`, near ? `write "${near}" (levels are case-sensitive)` : `use one of ${AUDIT_LEVELS.join(', ')}`);
  }
  rule.nonResourceURLs.forEach((url, i) => {
    if (url === '*') return;
    if (!url.startsWith('/')) {
      problem('error', [...path, 'nonResourceURLs', i], `non-resource URL ${quoted(url)} must begin with "/"`, `write ${quoted(`/${url.replace(/^\/*/, '')}`)}, or "*" for every URL`);
    }
    if (url !== '' && url.slice(0, -1).includes('*')) {
      problem('error', [...path, 'nonResourceURLs', i], `${quoted(url)}: a wildcard "*" may only be the last character`, 'a trailing "*" matches every path that starts with the rest, e.g. "/healthz*"');
    }
  });
  rule.resources.forEach((gr, j) => {
    const at = [...path, 'resources', j];
    if (gr.group !== '' && gr.group !== '*' && !isDnsSubdomain(gr.group)) {
      const hint = gr.group.includes('/')
        ? `name the group without its version: ${quoted(gr.group.split('/')[0]!)}`
        : 'use the API group in lowercase (e.g. "apps", "rbac.authorization.k8s.io"), "" for the core group or "*" for all';
      problem('error', [...at, 'group'], `${quoted(gr.group)} is not a valid API group name`, hint);
    }
    if (gr.resourceNames.length > 0 && gr.resources.length === 0) {
      problem('error', [...at, 'resourceNames'], 'resourceNames needs at least one resource in the same entry', 'add resources: [...] naming what the names belong to');
    }
    warnResources(gr.group, gr.resources, at, problem);
    if (gr.group === '*') {
      problem('warning', [...at, 'group'], 'group "*" (every API group) needs Kubernetes 1.36 or later', 'older API servers refuse the policy; list the groups one by one for them');
    }
    warnLiteralStars(gr.resourceNames, [...at, 'resourceNames'], 'resourceNames', problem);
  });
  checkStages(rule.omitStages, [...path, 'omitStages'], problem);
  if (rule.nonResourceURLs.length > 0 && (rule.resources.length > 0 || rule.namespaces.length > 0)) {
    problem('error', [...path, 'nonResourceURLs'], 'a rule cannot apply to both resources (or namespaces) and non-resource URLs', 'split it into two rules, one with resources/namespaces and one with nonResourceURLs');
  }
  warnLiteralStars(rule.users, [...path, 'users'], 'users', problem);
  warnLiteralStars(rule.userGroups, [...path, 'userGroups'], 'userGroups', problem);
  warnLiteralStars(rule.namespaces, [...path, 'namespaces'], 'namespaces', problem);
  rule.verbs.forEach((verb, i) => {
    if (verb === '*') {
      problem('warning', [...path, 'verbs', i], 'verbs has no wildcard: "*" matches only a verb literally named "*", so never', 'leave verbs out to match every verb');
    } else if (!(KNOWN_VERBS as readonly string[]).includes(verb)) {
      const lower = verb.toLowerCase();
      const hint = (KNOWN_VERBS as readonly string[]).includes(lower)
        ? `write ${quoted(lower)} (verbs are lowercase)`
        : lower === 'exec' || lower === 'attach' || lower === 'portforward'
          ? `exec is not a verb: match resources: ["pods/${lower}"] instead`
          : `known verbs: ${KNOWN_VERBS.join(', ')}`;
      problem('warning', [...path, 'verbs', i], `${quoted(verb)} is not a verb any request carries, so it never matches`, hint);
    }
  });
}

function warnLiteralStars(values: readonly string[], path: Path, field: string, problem: Report): void {
  values.forEach((value, i) => {
    if (value.includes('*')) {
      problem('warning', [...path, i], `${field} has no wildcard: ${quoted(value)} matches only that exact string`, `leave ${field} out to match any`);
    }
  });
}

/** Warnings for resource strings that the matcher can never match. */
function warnResources(group: string, resources: readonly string[], path: Path, problem: Report): void {
  resources.forEach((res, k) => {
    const at = [...path, 'resources', k];
    if (res === '*') return;
    const parts = res.split('/');
    if (res === '*/*') {
      problem('warning', at, '"*/*" matches nothing: the matcher knows "*", "*/sub" and "resource/*" only', 'write "*" for every resource and subresource');
      return;
    }
    if (parts.length > 2 || parts.some((p) => p === '')) {
      problem('warning', at, `${quoted(res)} can never match: write "resource", "resource/subresource", "resource/*" or "*/subresource"`);
      return;
    }
    if (res !== res.toLowerCase()) {
      problem('warning', at, `${quoted(res)} can never match: resources are lowercase plurals`, `write ${quoted(res.toLowerCase())}`);
      return;
    }
    const base = parts[0]!;
    const known = KNOWN_RESOURCES[group];
    if (base === '*' || !known || known.includes(base)) return;
    const elsewhere = groupsServing(base);
    const plural = known.find((r) => r === `${base}s` || r === `${base}es` || r === `${base.replace(/y$/, '')}ies`);
    const hint = plural
      ? `write ${quoted([plural, ...parts.slice(1)].join('/'))} (resources are plural)`
      : elsewhere.length > 0
        ? `${excerpt(base)} ${elsewhere.length === 1 ? 'is' : 'are'} in group ${elsewhere.map((g) => JSON.stringify(g)).join(' and ')}: put it in an entry with that group`
        : undefined;
    problem('warning', at, `${quoted(base)} is not a resource of group ${quoted(group)}, so this never matches`, hint);
  });
}

function warnUnreachable(rules: readonly PolicyRule[], problem: Report): void {
  const catchAll = rules.findIndex(
    (r) => !r.users.length && !r.userGroups.length && !r.verbs.length && !r.resources.length && !r.namespaces.length && !r.nonResourceURLs.length,
  );
  if (catchAll === -1 || catchAll === rules.length - 1) return;
  problem(
    'warning',
    ['rules', catchAll + 1],
    `rules[${catchAll + 1}] and every rule after it can never match: rules[${catchAll}] matches every request and the first match wins`,
    `move rules[${catchAll}] (level ${excerpt(rules[catchAll]!.level)}) to the end`,
  );
}

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);

function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}
