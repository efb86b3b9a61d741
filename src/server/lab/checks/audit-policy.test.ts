import { describe, expect, it } from 'vitest';
import { CANONICAL_REQUESTS, DEFAULT_IDENTITIES } from '../../../lib/audit-policy/canonical.ts';
import { checkPolicyText, predict } from '../../../lib/audit-policy/check.ts';
import { gradeOutcomes, type RowOutcome } from '../../../lib/audit-policy/grade.ts';
import { loadPolicy } from '../../../lib/audit-policy/validate.ts';
import { liveCriterion } from './audit-policy.ts';

// Accepted, but secrets go unlogged and every request records RequestReceived as well.
const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    resources: [{group: "", resources: ["secrets"]}]
  - level: RequestResponse
    resources: [{group: "rbac.authorization.k8s.io", resources: ["clusterroles", "clusterrolebindings", "roles", "rolebindings"]}]
  - level: Request
    resources: [{group: "", resources: ["pods/exec", "pods/portforward", "pods/attach"]}]
  - level: Metadata
`;

/** What the live check grades when the API server recorded exactly what the evaluator predicts. */
function recordedAsPredicted(text: string) {
  const policy = loadPolicy(text).policy!;
  const outcomes = new Map<string, RowOutcome>(CANONICAL_REQUESTS.map((r) => [r.id, predict(policy, r, DEFAULT_IDENTITIES).outcome]));
  return gradeOutcomes(outcomes, { mode: 'live' }, 'the API server runs with the policy');
}

describe('the live audit-policy criterion', () => {
  it('says only its own finding: shortfalls the static criteria already name are not repeated', () => {
    const statics = checkPolicyText(POLICY).result;
    const failingStatics = statics.criteria.filter((c) => !c.passed);
    expect(failingStatics.map((c) => c.id).sort()).toEqual(['request-received-omitted', 'secrets-audited']);
    const live = recordedAsPredicted(POLICY);
    expect(live.result.passed).toBe(false);

    const criterion = liveCriterion(statics.criteria, live.result, CANONICAL_REQUESTS.length);
    expect(criterion.passed).toBe(false);
    // One short line that points at the criteria above, not a copy of their long messages.
    expect(criterion.message.length).toBeLessThan(240);
    expect(criterion.message).not.toContain('Fix:');
    for (const c of live.result.criteria.filter((x) => !x.passed)) expect(criterion.message).not.toContain(c.message.slice(0, 40));
    expect(criterion.message).toMatch(/secrets/);
    expect(criterion.message).toMatch(/RequestReceived/);
  });

  it('spells out in full what only the live check found', () => {
    const statics = checkPolicyText(POLICY).result;
    const live = recordedAsPredicted(POLICY);
    // The API server recorded the RBAC changes at Metadata, though the policy says RequestResponse.
    const rbac = CANONICAL_REQUESTS.find((r) => r.criterion === 'rbac-changes-at-request-response')!;
    const policy = loadPolicy(POLICY).policy!;
    const outcomes = new Map<string, RowOutcome>(CANONICAL_REQUESTS.map((r) => [r.id, predict(policy, r, DEFAULT_IDENTITIES).outcome]));
    outcomes.set(rbac.id, { ...outcomes.get(rbac.id)!, level: 'Metadata' });
    const drifted = gradeOutcomes(outcomes, { mode: 'live' }, 'the API server runs with the policy').result;
    const own = drifted.criteria.find((c) => c.id === 'rbac-changes-at-request-response')!;
    expect(own.passed).toBe(false);

    const criterion = liveCriterion(statics.criteria, drifted, CANONICAL_REQUESTS.length);
    expect(criterion.message).toContain(own.message);
    expect(criterion.message).not.toContain(drifted.criteria.find((c) => c.id === 'secrets-audited')!.message);
    expect(live.result.criteria.find((c) => c.id === 'rbac-changes-at-request-response')!.passed).toBe(true);
  });

  it('passes with the probe count when everything was recorded as asked', () => {
    const criterion = liveCriterion([], { passed: true, score: 1, criteria: [] }, 19);
    expect(criterion).toEqual({ id: 'live', passed: true, message: 'the API server recorded every probe at the level your policy asks for (19 probes)' });
  });
});
