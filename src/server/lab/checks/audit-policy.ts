/**
 * Audit policy: the learner's `audit-policy.yaml` graded statically (the API server's own
 * acceptance and rule matching, over the canonical requests), then, once applied to their API
 * server, live: probes replayed and the levels the real API server recorded read back.
 */
import { checkPolicyText } from '../../../lib/audit-policy/check.ts';
import { resultOf, type CheckResult, type CriterionResult } from '../../../lib/check-result.ts';
import { liveCheckAuditPolicy } from '../../audit-policy/live-check.ts';
import type { Check } from '../check.ts';
import { readWorkspaceFile, sha256 } from '../workspace-files.ts';

export const POLICY_FILE = 'audit-policy.yaml';

export const auditPolicyCheck: Check = {
  name: 'audit-policy',
  description: 'audit-policy.yaml in the workspace meets the lesson\'s policy goals, is applied, and the API server records what it predicts.',
  criteria: ['policy-file', 'static', 'applied', 'live'],
  needs: { workspace: true, appliedPolicy: true },
  async run({ workspace, appliedPolicySha256, cluster, provider }, signal) {
    const file = await readWorkspaceFile(workspace, POLICY_FILE, { signal });
    if (!file.ok) {
      const message = `${POLICY_FILE}: ${file.reason}; write your policy there`;
      return resultOf(['policy-file', 'static', 'applied', 'live'].map((id) => ({ id, passed: false, message: id === 'policy-file' ? message : 'needs audit-policy.yaml first' })));
    }
    const text = file.content.toString('utf8');
    const criteria: CriterionResult[] = [{ id: 'policy-file', passed: true, message: `${POLICY_FILE} found` }];
    const statics = checkPolicyText(text).result;
    criteria.push(...statics.criteria.map((c) => ({ ...c, id: `static-${c.id}` })));
    const applied = appliedPolicySha256 === sha256(file.content);
    criteria.push({
      id: 'applied',
      passed: applied,
      message: applied ? 'the API server runs this policy' : appliedPolicySha256 ? 'the file changed since you applied it: apply it again' : 'not applied yet: press "Apply audit-policy.yaml" to restart the API server with it',
    });
    if (!applied || !statics.criteria.find((c) => c.id === 'policy-accepted')?.passed) {
      criteria.push({ id: 'live', passed: false, message: 'the live check runs once the policy is accepted and applied' });
      return resultOf(criteria);
    }
    const live = await liveCheckAuditPolicy({ cluster, provider, policyText: text, signal });
    criteria.push(liveCriterion(statics.criteria, live.result, live.probes.length));
    return resultOf(criteria);
  },
};

/** What each static criterion is about, for the live criterion to point at it in a few words. */
const SHORT_NAMES: Record<string, string> = {
  'secrets-audited': 'secrets requests',
  'rbac-changes-at-request-response': 'RBAC changes',
  'pod-exec-at-request': 'exec, attach and port-forward',
  'nodes-namespaces-at-metadata': 'node and namespace requests',
  'everything-else-at-metadata': 'other requests',
  'every-identity-audited': 'identities',
  'response-bodies-bounded': 'response bodies',
  'request-received-omitted': 'the RequestReceived stage',
};

/**
 * The `live` criterion: what the API server really recorded. A shortfall the static criteria
 * already report (same criterion failing there) is only pointed at, so the feedback does not
 * say everything twice; one only the live check found (the API server disagreed with the static
 * prediction, or another identity was blinded) is the live criterion's own, given in full.
 */
export function liveCriterion(statics: readonly CriterionResult[], live: CheckResult, probes: number): CriterionResult {
  if (live.passed) return { id: 'live', passed: true, message: `the API server recorded every probe at the level your policy asks for (${probes} probes)` };
  const failing = live.criteria.filter((c) => !c.passed);
  const staticFailed = new Set(statics.filter((c) => !c.passed).map((c) => c.id));
  const known = failing.filter((c) => staticFailed.has(c.id));
  const own = failing.filter((c) => !staticFailed.has(c.id));
  const parts = own.map((c) => `the API server recorded what the policy text does not predict: ${c.message}`);
  if (known.length) {
    parts.push(`the API server's log shows the shortfalls the criteria above name (${known.map((c) => SHORT_NAMES[c.id] ?? c.id).join(', ')}); fix those and check again`);
  }
  return { id: 'live', passed: false, message: parts.join('. ') };
}
