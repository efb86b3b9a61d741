/**
 * The files that make a kind cluster's API server enforce a learner's boundary in a way no
 * credential in the cluster can undo (learner-policy.ts says what the boundary is, and why).
 *
 * Two weaknesses of policies registered through the API, both measured on kind: an identity the
 * incident made cluster-admin deletes a ValidatingAdmissionPolicy's binding, then starts a
 * privileged pod; and it impersonates a system identity, which admission then sees instead of it
 * (impersonation replaces the request's user), so no identity-keyed rule can hold. So:
 *
 * - **Static admission manifests** (KEP-5793, the ManifestBasedAdmissionControlConfig gate):
 *   policies read from files on the node. They are not API objects, so nothing can delete them,
 *   and they see writes to the API's own admission objects, which API-registered policies never do.
 *   The directory starts empty; arming writes the learner's policies into it once the scenario is
 *   seeded (the world legitimately holds what a learner may not start), and the API server reloads
 *   the directory on change.
 * - **No impersonation by anyone** but the platform's admin: a structured
 *   authorization chain Node → a webhook authorizer → RBAC, where the webhook matches only
 *   impersonation requests, points at a port nothing listens on and has failurePolicy Deny. The
 *   structured configuration has no deny-only authorizer with match conditions; a webhook that
 *   always fails closed is one. Nothing in a lab cluster impersonates.
 */
import { stringify } from 'yaml';

import type { V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding } from '@kubernetes/client-node';

/** Where the boundary's files are inside the node and the API server's pod (mounted read-only). */
export const KIND_ADMISSION_DIR = '/etc/kubernetes/irlab-admission';
export const KIND_ADMISSION_CONFIG = `${KIND_ADMISSION_DIR}/admission-configuration.yaml`;
export const KIND_AUTHORIZATION_CONFIG = `${KIND_ADMISSION_DIR}/authorization-configuration.yaml`;
export const KIND_DENIER_KUBECONFIG = `${KIND_ADMISSION_DIR}/impersonation-denier.kubeconfig`;
/** Only ValidatingAdmissionPolicy objects and their bindings may be here (the plugin refuses others). */
export const KIND_STATIC_POLICY_DIR = `${KIND_ADMISSION_DIR}/policies`;
/** The one file arming writes into the static policy directory. */
export const ARMED_MANIFEST = 'irlab-learner-boundary.yaml';
/** Names of manifest-based admission objects must end so; the API refuses such names for its own objects. */
export const STATIC_SUFFIX = '.static.k8s.io';
export const FEATURE_GATE = 'ManifestBasedAdmissionControlConfig';

/** The API server's extra arguments that turn the boundary on (kubeadm leaves out --authorization-mode). */
export function boundaryApiServerArgs(): Record<string, string> {
  return {
    'admission-control-config-file': KIND_ADMISSION_CONFIG,
    'authorization-config': KIND_AUTHORIZATION_CONFIG,
    'feature-gates': `${FEATURE_GATE}=true`,
  };
}

function admissionConfiguration(): unknown {
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [{
      name: 'ValidatingAdmissionPolicy',
      configuration: { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'ValidatingAdmissionPolicyConfiguration', staticManifestsDir: KIND_STATIC_POLICY_DIR },
    }],
  };
}

/**
 * The group kubeadm puts the admin kubeconfig's user in: the platform, which impersonates an
 * identity to review its rights (rights-review.ts). No credential a learner can reach is in it:
 * joining it takes impersonation (refused here) or a signed certificate (the CSR API is closed to
 * them, learner-policy.ts).
 */
export const PLATFORM_GROUP = 'kubeadm:cluster-admins';

/**
 * The one impersonated action anybody else may take: asking the API server what an identity may
 * do (`kubectl auth can-i [--list] --as <identity>`), a question incident response asks of every
 * identity it scopes. Constrained impersonation (KEP-5284) checks two verbs: `impersonate:<mode>`
 * on the identity, which RBAC decides, and `impersonate-on:<mode>:<verb>` on the action, which
 * passes here only for creating a self review; the unconstrained `impersonate` never passes.
 */
export const SELF_REVIEWS = ['selfsubjectrulesreviews', 'selfsubjectaccessreviews'] as const;
const review = `request.resourceAttributes.verb.startsWith('impersonate-on:') && request.resourceAttributes.verb.endsWith(':create') && has(request.resourceAttributes.group) && request.resourceAttributes.group == 'authorization.k8s.io' && request.resourceAttributes.resource in ['${SELF_REVIEWS.join("', '")}']`;
const identity = "request.resourceAttributes.verb in ['impersonate:serviceaccount', 'impersonate:user-info']";

/** CEL over the SubjectAccessReview: impersonation the chain refuses (all but the platform's and self reviews). */
export const IMPERSONATION = `has(request.resourceAttributes) && request.resourceAttributes.verb.startsWith('impersonate') && !(has(request.groups) && '${PLATFORM_GROUP}' in request.groups) && !(${identity}) && !(${review})`;

function authorizationConfiguration(): unknown {
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthorizationConfiguration',
    authorizers: [
      { type: 'Node', name: 'node' },
      {
        type: 'Webhook',
        name: 'irlab-no-impersonation',
        webhook: {
          timeout: '1s',
          subjectAccessReviewVersion: 'v1',
          matchConditionSubjectAccessReviewVersion: 'v1',
          failurePolicy: 'Deny',
          cacheAuthorizedRequests: false,
          cacheUnauthorizedRequests: false,
          connectionInfo: { type: 'KubeConfigFile', kubeConfigFile: KIND_DENIER_KUBECONFIG },
          matchConditions: [{ expression: IMPERSONATION }],
        },
      },
      { type: 'RBAC', name: 'rbac' },
    ],
  };
}

/** A kubeconfig whose server refuses every connection at once (port 1 on the node's loopback). */
function denierKubeconfig(): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'nowhere', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'nobody', user: {} }],
    contexts: [{ name: 'deny', context: { cluster: 'nowhere', user: 'nobody' } }],
    'current-context': 'deny',
  };
}

/** The boundary's files, by path relative to the directory mounted at KIND_ADMISSION_DIR. */
export function boundaryFiles(): { path: string; content: string }[] {
  return [
    { path: 'admission-configuration.yaml', content: stringify(admissionConfiguration()) },
    { path: 'authorization-configuration.yaml', content: stringify(authorizationConfiguration()) },
    { path: 'impersonation-denier.kubeconfig', content: stringify(denierKubeconfig()) },
  ];
}

/** Policies and their bindings renamed into the static namespace, as one multi-document manifest. */
export function staticManifest(policies: V1ValidatingAdmissionPolicy[], bindingOf: (p: V1ValidatingAdmissionPolicy) => V1ValidatingAdmissionPolicyBinding): string {
  const docs: unknown[] = [];
  for (const policy of policies) {
    const name = `${policy.metadata?.name ?? ''}${STATIC_SUFFIX}`;
    const binding = bindingOf(policy);
    docs.push({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', ...policy, metadata: { ...policy.metadata, name } });
    docs.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      ...binding,
      metadata: { ...binding.metadata, name },
      spec: { ...binding.spec, policyName: name },
    });
  }
  return docs.map((d) => stringify(d)).join('---\n');
}
