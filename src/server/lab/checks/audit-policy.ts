/**
 * Audit policy: the learner's `audit-policy.yaml` graded statically (the API server's own
 * acceptance and rule matching, over the canonical requests), then, once applied to their API
 * server, live: probes replayed and the levels the real API server recorded read back.
 */
import { checkPolicyText } from '../../../lib/audit-policy/check.ts';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
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
    const failing = live.result.criteria.filter((c) => !c.passed);
    criteria.push({
      id: 'live',
      passed: live.result.passed,
      message: live.result.passed ? `the API server recorded every probe at the level your policy asks for (${live.probes.length} probes)` : `live: ${failing.map((c) => c.message).join('; ')}`,
    });
    return resultOf(criteria);
  },
};
