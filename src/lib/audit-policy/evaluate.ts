/**
 * Which audit level a request gets: the API server's rule matching (k8s.io/apiserver
 * pkg/audit/policy/checker.go), step for step. The first rule that matches wins; no match means
 * level None. A rule's omitStages are united with the policy's, and a rule's omitManagedFields,
 * when set, overrides the policy's. Every list in a rule is "any of" and an empty list is "any";
 * the fields of a rule must all match.
 */
import { AUDIT_STAGES, type AuditDecision, type AuditPolicy, type AuditStage, type PolicyRule, type RequestAttributes } from './types.ts';

export function evaluatePolicy(policy: AuditPolicy, request: RequestAttributes): AuditDecision {
  for (let i = 0; i < policy.rules.length; i++) {
    const rule = policy.rules[i]!;
    if (ruleMatches(rule, request)) {
      return {
        level: rule.level,
        rule: i,
        omitStages: unionStages(policy.omitStages, rule.omitStages),
        omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
      };
    }
  }
  return { level: 'None', rule: null, omitStages: unionStages(policy.omitStages), omitManagedFields: policy.omitManagedFields };
}

export function ruleMatches(rule: PolicyRule, request: RequestAttributes): boolean {
  if (rule.users.length > 0 && !rule.users.includes(request.user)) return false;
  if (rule.userGroups.length > 0 && !request.groups.some((g) => rule.userGroups.includes(g))) return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(request.verb)) return false;
  // namespaces and resources take precedence: a rule with either never looks at nonResourceURLs
  // (the validator refuses rules that have both, so this only matters for hand-built policies).
  if (rule.namespaces.length > 0 || rule.resources.length > 0) return matchesResource(rule, request);
  if (rule.nonResourceURLs.length > 0) return matchesNonResource(rule, request);
  return true;
}

function matchesNonResource(rule: PolicyRule, request: RequestAttributes): boolean {
  if (request.resourceRequest) return false;
  return rule.nonResourceURLs.some((spec) => pathMatches(request.path, spec));
}

/** `*` matches all; otherwise exact, or a prefix when the spec ends in `*` (every trailing `*` is dropped). */
export function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function matchesResource(rule: PolicyRule, request: RequestAttributes): boolean {
  if (!request.resourceRequest) return false;
  // Cluster-scoped requests have namespace "", so `namespaces: [""]` selects them.
  if (rule.namespaces.length > 0 && !rule.namespaces.includes(request.namespace)) return false;
  if (rule.resources.length === 0) return true;

  const { resource, subresource, name } = request;
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const gr of rule.resources) {
    if (gr.group !== request.apiGroup && gr.group !== '*') continue;
    // An entry with a group and no resources matches every resource (and subresource) of that group.
    if (gr.resources.length === 0) return true;
    for (const res of gr.resources) {
      // resourceNames are exact names; a request without a name (list, create) matches only "".
      if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) continue;
      if (res === combined || res === '*') return true;
      if (subresource && res.startsWith('*/') && res.slice(2) === subresource) return true;
      // "pods/*" matches pods itself as well as every subresource of pods.
      if (res.endsWith('/*') && res.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

function unionStages(...lists: ReadonlyArray<readonly AuditStage[]>): AuditStage[] {
  const all = new Set(lists.flat());
  return AUDIT_STAGES.filter((s) => all.has(s));
}
