/**
 * The names and criteria of every check a lab may run, without the checks themselves: content
 * validation (`irlab validate`, the build) needs only these, and the check modules pull in the
 * Kubernetes client (most of a second to load). check-catalogue.test.ts keeps this list equal to
 * checks/registry.ts.
 */
export const CHECK_CRITERIA: Readonly<Record<string, readonly string[]>> = {
  'audit-policy': ['policy-file', 'static', 'applied', 'live'],
  quarantine: ['pod-kept', 'labelled', 'isolated', 'cut-proven'],
  evidence: ['manifest', 'logs', 'describe', 'filesystem', 'before-deletion'],
  investigation: ['identity', 'secrets', 'binding', 'exec-command', 'source-ips', 'first-request', 'node-identity', 'node-secrets', 'node-source-ips', 'node-decision'],
  scope: ['identities', 'stolen-credentials', 'reach'],
  eradication: ['legacy-token-revoked', 'pod-tokens-revoked', 'secrets-rotated', 'consumers-work', 'rights-revoked', 'rbac-persistence-removed', 'workload-persistence-removed', 'known-good-image', 'egress-limited'],
  'token-revoked': ['token-rejected', 'account-kept'],
  'node-isolation': ['node-unschedulable', 'workload-off-node'],
  'node-evidence': ['node-files', 'credential-compared', 'container'],
  'node-revocation': ['node-secrets-rotated', 'privileged-workload-removed'],
};

/** Checks that grade a policy applied through the lab's Apply button (drills have none). */
export const NEEDS_APPLIED_POLICY: ReadonlySet<string> = new Set(['audit-policy']);

export const CHECK_NAMES: readonly string[] = Object.keys(CHECK_CRITERIA);

/** Questions the scope check grades; every other question is the investigation check's. */
export const SCOPE_QUESTION_IDS: readonly string[] = CHECK_CRITERIA.scope!;
