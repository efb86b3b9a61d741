/**
 * The audit.k8s.io/v1 Policy as kube-apiserver holds it after decoding, the request attributes
 * its rules are matched against, and what matching decides. Field names follow the API so a
 * reader can hold this next to the Kubernetes documentation.
 */

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditLevel = (typeof AUDIT_LEVELS)[number];

export const AUDIT_STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

/** Levels are ordered: each one records everything the previous one does, and more. */
export function levelRank(level: AuditLevel): number {
  return AUDIT_LEVELS.indexOf(level);
}

export function atLeast(level: AuditLevel, minimum: AuditLevel): boolean {
  return levelRank(level) >= levelRank(minimum);
}

export interface GroupResources {
  /** API group; "" is the core group, "*" every group (Kubernetes 1.36+). */
  group: string;
  /** `pods`, `pods/exec`, `pods/*`, `*\/exec` or `*`; empty matches every resource of the group. */
  resources: string[];
  /** Object names; empty matches any name (and requests without one, such as list). */
  resourceNames: string[];
}

export interface PolicyRule {
  level: AuditLevel;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  /** "" matches cluster-scoped requests (and any request made outside a namespace). */
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: AuditStage[];
  /** Absent: the policy-wide omitManagedFields applies. */
  omitManagedFields?: boolean;
  /** 1-based line of the rule in its file, when it came from text. */
  line?: number;
}

export interface AuditPolicy {
  rules: PolicyRule[];
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

/**
 * What the API server knows about a request when it picks the audit level: the authenticated
 * user and the RequestInfo parsed from the URL (see request-info.ts for how a URL maps to these).
 */
export interface RequestAttributes {
  user: string;
  /** All of the user's groups, including the `system:authenticated` the API server adds. */
  groups: readonly string[];
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource URLs the lowercase HTTP method. */
  verb: string;
  resourceRequest: boolean;
  /** Resource requests only. */
  apiGroup: string;
  resource: string;
  subresource: string;
  /** "" for cluster-scoped requests; for a named Namespace object, its own name. */
  namespace: string;
  name: string;
  /** The URL path (what nonResourceURLs match). */
  path: string;
}

export interface AuditDecision {
  level: AuditLevel;
  /** 0-based index of the first matching rule; null when none matched (level None). */
  rule: number | null;
  /** The policy's omitStages united with the rule's, in stage order. */
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

/** One thing wrong (error: the API server refuses the policy) or suspicious (warning: accepted, but probably not meant). */
export interface PolicyProblem {
  severity: 'error' | 'warning';
  /** Where in the policy, e.g. `rules[2].resources[0].group`; empty for the whole document. */
  path: string;
  /** 1-based, when the policy came from text. */
  line?: number;
  column?: number;
  message: string;
  /** How to fix it. */
  hint?: string;
}
