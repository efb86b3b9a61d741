// The boundary's files as the API server reads them: static manifests renamed into the reserved
// suffix (bindings pointing at the renamed policy), an admission configuration naming the one
// directory, and an authorization chain that sends impersonation, and only that, to a webhook
// that fails closed. tests/kind-clusters/learner-access.test.ts proves them on a real kind cluster.
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

import { boundaryApiServerArgs, boundaryFiles, IMPERSONATION, KIND_ADMISSION_CONFIG, KIND_AUTHORIZATION_CONFIG, KIND_DENIER_KUBECONFIG, KIND_STATIC_POLICY_DIR, STATIC_SUFFIX, staticManifest } from './kind-boundary.ts';
import { learnerPolicies, policyBinding } from './learner-policy.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const file = (name: string): Obj => parse(boundaryFiles().find((f) => f.path === name)!.content) as Obj;

describe('the static manifest', () => {
  const docs = parseAllDocuments(staticManifest(learnerPolicies(), policyBinding)).map((d) => d.toJS() as Obj);

  it('holds every learner policy and its binding, each named in the reserved suffix', () => {
    expect(docs).toHaveLength(learnerPolicies().length * 2);
    for (const doc of docs) {
      expect(doc['apiVersion']).toBe('admissionregistration.k8s.io/v1');
      expect(doc['metadata'].name.endsWith(STATIC_SUFFIX)).toBe(true);
    }
    const policies = docs.filter((d) => d['kind'] === 'ValidatingAdmissionPolicy').map((d) => d['metadata'].name);
    const bindings = docs.filter((d) => d['kind'] === 'ValidatingAdmissionPolicyBinding');
    expect(bindings.map((b) => b['spec'].policyName)).toEqual(policies);
    for (const b of bindings) expect(b['spec'].paramRef).toBeUndefined();
  });
});

describe('the API server configuration', () => {
  it('turns on the feature gate and names both files', () => {
    expect(boundaryApiServerArgs()).toEqual({
      'admission-control-config-file': KIND_ADMISSION_CONFIG,
      'authorization-config': KIND_AUTHORIZATION_CONFIG,
      'feature-gates': 'ManifestBasedAdmissionControlConfig=true',
    });
  });

  it('loads static ValidatingAdmissionPolicies from the one directory', () => {
    const config = file('admission-configuration.yaml');
    expect(config['plugins']).toEqual([expect.objectContaining({ name: 'ValidatingAdmissionPolicy', configuration: expect.objectContaining({ staticManifestsDir: KIND_STATIC_POLICY_DIR }) })]);
  });

  it('authorizes Node, then refuses impersonation through a webhook that fails closed, then RBAC', () => {
    const authorizers = file('authorization-configuration.yaml')['authorizers'] as Obj[];
    expect(authorizers.map((a) => a['type'])).toEqual(['Node', 'Webhook', 'RBAC']);
    const webhook = authorizers[1]!['webhook'];
    expect(webhook.failurePolicy).toBe('Deny');
    expect(webhook.matchConditions).toEqual([{ expression: IMPERSONATION }]);
    expect(IMPERSONATION).toContain("'kubeadm:cluster-admins' in request.groups");
    expect(IMPERSONATION).toContain("['selfsubjectrulesreviews', 'selfsubjectaccessreviews']");
    expect(webhook.connectionInfo.kubeConfigFile).toBe(KIND_DENIER_KUBECONFIG);
    // Nothing may answer there: port 1 on the node's loopback refuses the connection at once.
    expect(file('impersonation-denier.kubeconfig')['clusters'][0].cluster.server).toBe('https://127.0.0.1:1');
  });
});
