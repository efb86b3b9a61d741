// The learner's role and policies as data: the role grants none of the ways out (evaluated with
// RBAC's own matching rules), and every policy matches the learner and borrowed service-account
// tokens but not the cluster's own identities. tests/kind-clusters/learner-access.test.ts proves
// the same objects on a real API server.
import type { V1PolicyRule } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { BORROWABLE, containersConfined, LEARNER_GROUP, NO_CONNECT_LABEL, SPEC_CHANGED, LEARNER_ROLE, LEARNER_RULES, learnerBinding, learnerPolicies, policyBinding, POLICY_NAMES, SAFE_CAPABILITIES, SYSTEM_NAMESPACES } from './learner-policy.ts';

/** RBAC's matching: a rule allows verb on group/resource when each list holds it or '*'. */
function allows(rules: V1PolicyRule[], verb: string, group: string, resource: string): boolean {
  const has = (list: string[] | undefined, value: string) => (list ?? []).includes('*') || (list ?? []).includes(value);
  return rules.some((r) => has(r.verbs, verb) && has(r.apiGroups, group) && has(r.resources, resource) && !r.resourceNames?.length);
}

describe('the learner role', () => {
  it('grants none of the ways out', () => {
    const denied: [string, string, string][] = [
      ['impersonate', '', 'users'], ['impersonate', '', 'groups'], ['impersonate', '', 'serviceaccounts'],
      ['escalate', 'rbac.authorization.k8s.io', 'clusterroles'], ['bind', 'rbac.authorization.k8s.io', 'clusterroles'],
      ['create', '', 'serviceaccounts/token'],
      ['create', 'certificates.k8s.io', 'certificatesigningrequests'], ['update', 'certificates.k8s.io', 'certificatesigningrequests/approval'],
      ['approve', 'certificates.k8s.io', 'signers'], ['sign', 'certificates.k8s.io', 'signers'],
      ['get', '', 'nodes/proxy'], ['create', '', 'nodes/proxy'], ['patch', '', 'nodes/status'],
      ['delete', 'admissionregistration.k8s.io', 'validatingadmissionpolicies'], ['update', 'admissionregistration.k8s.io', 'validatingadmissionpolicybindings'],
      ['create', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations'], ['create', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations'],
    ];
    for (const [verb, group, resource] of denied) expect(allows(LEARNER_RULES, verb, group, resource), `${verb} ${group}/${resource}`).toBe(false);
    // RBAC's '*' covers subresources: nodes/proxy (the kubelet's exec) would come with it.
    for (const rule of LEARNER_RULES) expect(rule.resources, JSON.stringify(rule)).not.toContain('*');
  });

  it('grants what L18 containment and eradication do', () => {
    const needed: [string, string, string][] = [
      ['patch', '', 'pods'], ['delete', '', 'pods'], ['create', '', 'pods/exec'], ['get', '', 'pods/log'],
      ['create', 'networking.k8s.io', 'networkpolicies'], ['delete', 'rbac.authorization.k8s.io', 'clusterrolebindings'],
      ['patch', '', 'secrets'], ['delete', '', 'secrets'], ['patch', 'apps', 'deployments'], ['list', 'apps', 'replicasets'],
      // Isolating a node: cordon and taint (a patch of the node), drain (evictions).
      ['patch', '', 'nodes'], ['create', '', 'pods/eviction'],
      // Least privilege given back (leaked-ci-token): RBAC's escalation check bounds it by the learner's own rights.
      ['create', 'rbac.authorization.k8s.io', 'roles'], ['create', 'rbac.authorization.k8s.io', 'rolebindings'],
    ];
    for (const [verb, group, resource] of needed) expect(allows(LEARNER_RULES, verb, group, resource), `${verb} ${group}/${resource}`).toBe(true);
  });

  it('is bound to the learner group only', () => {
    expect(learnerBinding()).toMatchObject({ roleRef: { name: LEARNER_ROLE }, subjects: [{ kind: 'Group', name: LEARNER_GROUP }] });
  });
});

describe('the learner policies', () => {
  it('each deny, fail closed and match the learner and borrowed service accounts', () => {
    const policies = learnerPolicies();
    expect(policies.map((p) => p.metadata?.name)).toEqual(Object.values(POLICY_NAMES));
    for (const p of policies) {
      expect(p.spec?.failurePolicy).toBe('Fail');
      expect(p.spec?.matchConditions?.[0]).toEqual({ name: 'borrowable-identity', expression: BORROWABLE });
      expect(policyBinding(p).spec).toEqual({ policyName: p.metadata?.name, validationActions: ['Deny'] });
      for (const v of p.spec?.validations ?? []) expect(v.message ?? v.messageExpression).toMatch(/^'?irlab: /);
    }
    expect(BORROWABLE).toContain(`'${LEARNER_GROUP}' in request.userInfo.groups`);
    for (const ns of SYSTEM_NAMESPACES) expect(BORROWABLE).toContain(`'${ns}'`);
  });

  it('cover pods, their ephemeral containers, every workload template and CONNECT to pods', () => {
    const [pods, connect] = learnerPolicies();
    const rules = pods!.spec!.matchConstraints!.resourceRules!.flatMap((r) => r.resources ?? []);
    expect(rules).toEqual(expect.arrayContaining(['pods', 'pods/ephemeralcontainers', 'deployments', 'daemonsets', 'statefulsets', 'replicasets', 'jobs', 'cronjobs']));
    expect(connect!.spec!.matchConstraints!.resourceRules).toEqual([expect.objectContaining({ operations: ['CONNECT'], resources: ['pods/exec', 'pods/attach', 'pods/portforward'] })]);
  });

  it('let an update that keeps the pod spec through (a label on the world\'s own privileged pod)', () => {
    const [pods] = learnerPolicies();
    expect(pods!.spec!.matchConditions).toContainEqual({ name: 'spec-changed', expression: SPEC_CHANGED });
    expect(SPEC_CHANGED).toMatch(/^request\.operation != 'UPDATE' \|\| oldObject == null \|\| /);
  });

  it('keep the system namespaces closed but for deletion, and the node-reaching cluster objects closed', () => {
    const system = learnerPolicies().find((p) => p.metadata?.name === POLICY_NAMES.system)!;
    expect(system.spec!.matchConstraints!.resourceRules![0]!.operations).toEqual(['CREATE', 'UPDATE', 'CONNECT']);
    expect(system.spec!.matchConstraints!.namespaceSelector!.matchExpressions![0]!.values).toEqual([...SYSTEM_NAMESPACES]);
    const cluster = learnerPolicies().find((p) => p.metadata?.name === POLICY_NAMES.cluster)!;
    const resources = cluster.spec!.matchConstraints!.resourceRules!.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((x) => `${g}/${x}`)));
    expect(resources).toEqual(expect.arrayContaining(['admissionregistration.k8s.io/*', '/persistentvolumes', 'storage.k8s.io/*', 'node.k8s.io/*', 'apiregistration.k8s.io/*', '/nodes/proxy', '/namespaces']));
    expect(JSON.stringify(cluster.spec!.validations)).toContain(NO_CONNECT_LABEL);
  });

  it('check every container list for privilege, procMount and capabilities beyond the safe set', () => {
    const expression = containersConfined('ephemeralContainers', 'spec');
    expect(expression.startsWith('(!has(spec.ephemeralContainers) || spec.ephemeralContainers.all(c, ')).toBe(true);
    expect(expression).toContain('!c.securityContext.privileged');
    expect(expression).toContain("c.securityContext.procMount == 'Default'");
    expect(expression).toContain(`x in [${SAFE_CAPABILITIES.map((c) => `'${c}'`).join(', ')}]`);
    expect(SAFE_CAPABILITIES).not.toContain('SYS_ADMIN');
    expect(SAFE_CAPABILITIES).not.toContain('NET_ADMIN');
    expect(SAFE_CAPABILITIES).not.toContain('SYS_PTRACE');
  });
});
