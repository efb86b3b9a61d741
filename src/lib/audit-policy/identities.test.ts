/**
 * Judging effect across identities: a policy that blinds the log to some identities that could act
 * in an incident fails, whichever way it is written; exempting well-known noise passes; secrets at
 * Metadata pass with the trade-off explained; RequestResponse on everything fails. Each "fails"
 * case here passed the old check (which evaluated one service account and the admin only).
 */
import { describe, expect, it } from 'vitest';
import { SEED_POLICY } from '../../../tests/integration/audit-policy-cases.ts';
import { checkPolicyText } from './check.ts';

const HEAD = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n';
/** The lesson's rules, to append after an exemption. */
const LESSON_RULES = SEED_POLICY.slice(SEED_POLICY.indexOf('rules:\n') + 'rules:\n'.length);
const before = (rule: string) => `${HEAD}${rule}${LESSON_RULES}`;
const criterion = (text: string, id: string) => checkPolicyText(text).result.criteria.find((c) => c.id === id)!;

describe('a rule that blinds some identities fails', () => {
  it.each([
    ['None for the web-app service account', '  - level: None\n    users: ["system:serviceaccount:production:web-app"]\n'],
    ['None for other namespaces\' service accounts', '  - level: None\n    userGroups: ["system:serviceaccounts:ci", "system:serviceaccounts:payments", "system:serviceaccounts:monitoring"]\n'],
    ['None for kube-system\'s controllers', '  - level: None\n    userGroups: ["system:serviceaccounts:kube-system"]\n'],
    ['None for every read by anyone authenticated', '  - level: None\n    userGroups: ["system:authenticated"]\n    verbs: ["get", "list", "watch"]\n'],
    ['Metadata for a namespace\'s service accounts (exec then lacks its command)', '  - level: Metadata\n    userGroups: ["system:serviceaccounts:production"]\n'],
    ['None for a person', '  - level: None\n    users: ["jane@example.com"]\n'],
    ['None for unauthenticated requests', '  - level: None\n    userGroups: ["system:unauthenticated"]\n'],
    ['None for secrets read by service accounts', '  - level: None\n    userGroups: ["system:serviceaccounts:production"]\n    resources: [{ group: "", resources: ["secrets"] }]\n'],
  ])('%s', (_name, rule) => {
    const text = before(rule);
    const { result } = checkPolicyText(text);
    const identities = result.criteria.find((c) => c.id === 'every-identity-audited')!;
    expect(result.passed).toBe(false);
    expect(identities.passed).toBe(false);
    expect(identities.message).toMatch(/^a rule blinds the log to some identities that could act in an incident: /);
    // Where to look: the rule's position.
    expect(identities.message).toMatch(/look at rules\[0\]/);
  });

  it('names the rule the learner wrote, never an identity the learner did not write', () => {
    const { message } = criterion(before('  - level: None\n    userGroups: ["system:serviceaccounts:ci"]\n'), 'every-identity-audited');
    expect(message).toContain('system:serviceaccounts:ci');
    expect(message).not.toMatch(/deployer|system:serviceaccount:/);
    const byUser = criterion(before('  - level: None\n    userGroups: ["system:serviceaccounts"]\n'), 'every-identity-audited').message;
    expect(byUser).not.toMatch(/web-app"|production:web-app|ci:deployer|kube-system:/);
    expect(byUser).toMatch(/some service accounts/);
  });
});

describe('exempting well-known noise passes', () => {
  // The kind of exemptions the Kubernetes project's own GCE policy makes (cluster/gce/gci/configure-helper.sh).
  const NOISE = `  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources: [{ group: "", resources: ["endpoints", "services", "services/status"] }]
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get"]
    resources: [{ group: "", resources: ["nodes", "nodes/status"] }]
  - level: None
    users: ["system:kube-controller-manager", "system:kube-scheduler", "system:serviceaccount:kube-system:endpoint-controller"]
    verbs: ["get", "update"]
    namespaces: ["kube-system"]
    resources: [{ group: "", resources: ["endpoints"] }, { group: "coordination.k8s.io", resources: ["leases"] }]
  - level: None
    users: ["system:apiserver"]
    verbs: ["get"]
    resources: [{ group: "", resources: ["namespaces", "namespaces/status", "namespaces/finalize"] }]
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"]
  - level: None
    resources: [{ group: "", resources: ["events"] }, { group: "events.k8s.io", resources: ["events"] }]
`;
  it('the lesson policy after kube-proxy, kubelet, controller, apiserver, health-check and events exemptions', () => {
    const { result } = checkPolicyText(before(NOISE));
    expect(result.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(result.criteria.find((c) => c.id === 'every-identity-audited')!.message).toMatch(/^no rule lowers the level for particular identities/);
  });

  it('an identity rule that raises the level', () => {
    const { result } = checkPolicyText(before('  - level: RequestResponse\n    userGroups: ["system:serviceaccounts"]\n    resources: [{ group: "", resources: ["pods/exec"] }]\n'));
    expect(result.passed).toBe(true);
  });
});

describe('secrets', () => {
  const atLevel = (level: string) => SEED_POLICY.replace('  - level: Request\n    resources:\n      - group: ""\n        resources: ["secrets"]', `  - level: ${level}\n    resources:\n      - group: ""\n        resources: ["secrets"]`);

  it('at Metadata pass, with the trade-off explained and no warning', () => {
    const text = atLevel('Metadata');
    expect(text).not.toBe(SEED_POLICY);
    const { result } = checkPolicyText(text);
    expect(result).toMatchObject({ passed: true, score: 1 });
    const secrets = result.criteria.find((c) => c.id === 'secrets-audited')!;
    expect(secrets.message).toMatch(/no request or response body, so no secret value lands in the log; the price is no record of what was written into a secret/);
    expect(secrets.warning).toBeUndefined();
  });

  it('at RequestResponse pass, with a warning that secret values land in the log', () => {
    const { result } = checkPolicyText(atLevel('RequestResponse'));
    expect(result.passed).toBe(true);
    expect(result.criteria.find((c) => c.id === 'secrets-audited')!.warning).toMatch(/secret values end up in the audit log: .*get secrets\/db-credentials in production.* RequestResponse, so their responses/);
  });

  it('at Request pass, with a warning about the bodies of writes only', () => {
    const secrets = checkPolicyText(SEED_POLICY).result.criteria.find((c) => c.id === 'secrets-audited')!;
    expect(secrets.passed).toBe(true);
    expect(secrets.warning).toMatch(/request bodies/);
  });

  it('at a level whose every stage is omitted fail: the rule says Metadata, the log gets nothing', () => {
    const text = `${HEAD}  - level: Metadata\n    resources: [{ group: "", resources: ["secrets"] }]\n    omitStages: ["ResponseComplete"]\n${LESSON_RULES}`;
    const secrets = criterion(text, 'secrets-audited');
    expect(secrets.passed).toBe(false);
    expect(secrets.message).toMatch(/get secrets\/db-credentials in production/);
  });

  it('at None fail', () => {
    expect(criterion(atLevel('None'), 'secrets-audited').passed).toBe(false);
  });
});

describe('RequestResponse for everything fails on log volume and secret exposure', () => {
  it.each([
    ['a single RequestResponse rule', `${HEAD}  - level: RequestResponse\n`],
    ['the lesson rules with a RequestResponse catch-all', `${SEED_POLICY.slice(0, SEED_POLICY.lastIndexOf('  - level: Metadata'))}  - level: RequestResponse\n`],
    ['secrets at Metadata but every other read (and minted tokens) in full', `${HEAD}  - level: Metadata\n    resources: [{ group: "", resources: ["secrets"] }]\n  - level: RequestResponse\n`],
  ])('%s', (_name, text) => {
    const bodies = criterion(text, 'response-bodies-bounded');
    expect(bodies.passed).toBe(false);
    expect(bodies.message).toMatch(/copied into the log/);
  });
});
