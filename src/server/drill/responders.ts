/**
 * Who a drill participant is to the API server, and what they may do there. Each participant
 * holds a client certificate of their own (CN `drill:<slug>.<participant id>`, O
 * `irlab:drill-responders`, signed by the drill cluster's CA), never the admin credential, so
 * the audit log's `user.username` is the participant and nobody can claim to be someone else.
 * The group is bound to a ClusterRole that reads what incident response reads (named resources, so
 * no proxy subresource) and changes what containment and eradication change; it holds no
 * `impersonate`, `escalate` or `bind`, no token or CSR creation,
 * and (RBAC's own rule) a binding or role can be written only with rights one already holds.
 * Responders may delete RBAC objects (eradication removes the attacker's bindings), so a
 * ValidatingAdmissionPolicy keeps them from editing or deleting their own role and binding,
 * which would lock the whole team out.
 */
import {
  AdmissionregistrationV1Api,
  ApiException,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1PolicyRule,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { READABLE } from '../cluster/learner-policy.ts';

export const RESPONDER_GROUP = 'irlab:drill-responders';
export const RESPONDER_ROLE = 'irlab:drill-responder';
const PREFIX = 'drill:';
const ID = /^[A-Za-z0-9_-]{1,40}$/;

/** A display name as `[a-z0-9-]`: decoration in the username; the participant id makes it unique. */
export function nameSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 20) || 'participant';
}

/** The username a participant's certificate carries (the audit log's `user.username`). */
export function responderUsername(participant: { id: string; name: string }): string {
  if (!ID.test(participant.id)) throw new Error(`participant id ${JSON.stringify(participant.id)} is not a drill participant id`);
  return `${PREFIX}${nameSlug(participant.name)}.${participant.id}`;
}

/** The participant id inside a responder username, or undefined for any other user. */
export function participantIdOf(username: string): string | undefined {
  if (!username.startsWith(PREFIX)) return undefined;
  const id = username.slice(username.lastIndexOf('.') + 1);
  return ID.test(id) ? id : undefined;
}

const write = ['create', 'update', 'patch', 'delete'];

/** What a responder needs: read everything; contain, preserve evidence and eradicate. */
export const RESPONDER_RULES: V1PolicyRule[] = [
  // What incident response reads, by name (the lab learner's list): `*` also grants every
  // subresource, and GET on nodes/proxy is the kubelet's API (exec into any container of the node).
  { apiGroups: ['*'], resources: [...READABLE], verbs: ['get', 'list', 'watch'] },
  // Label or delete the compromised pod, copy evidence out of it (kubectl cp is an exec).
  { apiGroups: [''], resources: ['pods'], verbs: [...write, 'deletecollection'] },
  { apiGroups: [''], resources: ['pods/exec', 'pods/attach', 'pods/eviction'], verbs: ['create', 'get'] },
  // Rotate secrets, revoke or replace service accounts and their workloads' config.
  { apiGroups: [''], resources: ['secrets', 'configmaps', 'services', 'serviceaccounts'], verbs: write },
  { apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: ['patch', 'update'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale'], verbs: write },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: write },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: write },
  // Remove what the attacker bound; no create, and RBAC refuses an update granting more than one holds.
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: ['update', 'patch', 'delete'] },
  // Ask who may do what (not act as them), and whether a stolen token still works.
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews', 'selfsubjectreviews'], verbs: ['create'] },
];

function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

const GUARD = 'irlab-drill-responder-rbac';
const managed = { 'app.kubernetes.io/managed-by': 'irlab' };

/** Responders can neither change nor delete the role and binding that give them their rights. */
const guard: V1ValidatingAdmissionPolicy = {
  metadata: { name: GUARD, labels: managed },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [{ apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['*'], operations: ['UPDATE', 'DELETE'], resources: ['clusterroles', 'clusterrolebindings'] }],
    },
    matchConditions: [{ name: 'by-a-responder', expression: `'${RESPONDER_GROUP}' in request.userInfo.groups` }],
    validations: [{
      expression: `!(oldObject.metadata.name in ['${RESPONDER_ROLE}', '${RESPONDER_GROUP}'])`,
      message: 'the drill responders\' own role and binding are the platform\'s, not part of the incident',
      reason: 'Forbidden',
    }],
  },
};
const guardBinding: V1ValidatingAdmissionPolicyBinding = { metadata: { name: GUARD, labels: managed }, spec: { policyName: GUARD, validationActions: ['Deny'] } };

/** Creates (or brings up to date) the responders' ClusterRole, its binding to their group, and the guard on both. */
export async function ensureResponderRbac(admin: KubeConfig): Promise<void> {
  const admission = admin.makeApiClient(AdmissionregistrationV1Api);
  await upsert(guard, (body) => admission.createValidatingAdmissionPolicy({ body }), () => admission.readValidatingAdmissionPolicy({ name: GUARD }), (body) => admission.replaceValidatingAdmissionPolicy({ name: GUARD, body }));
  await upsert(guardBinding, (body) => admission.createValidatingAdmissionPolicyBinding({ body }), () => admission.readValidatingAdmissionPolicyBinding({ name: GUARD }), (body) => admission.replaceValidatingAdmissionPolicyBinding({ name: GUARD, body }));
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const role: V1ClusterRole = { metadata: { name: RESPONDER_ROLE, labels: managed }, rules: RESPONDER_RULES };
  const binding: V1ClusterRoleBinding = {
    metadata: { name: RESPONDER_GROUP, labels: managed },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RESPONDER_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: RESPONDER_GROUP }],
  };
  await upsert(role, (body) => rbac.createClusterRole({ body }), () => rbac.readClusterRole({ name: RESPONDER_ROLE }), (body) => rbac.replaceClusterRole({ name: RESPONDER_ROLE, body }));
  await upsert(binding, (body) => rbac.createClusterRoleBinding({ body }), () => rbac.readClusterRoleBinding({ name: RESPONDER_GROUP }), (body) => rbac.replaceClusterRoleBinding({ name: RESPONDER_GROUP, body }));
}

/**
 * Creates the object, or replaces the one already there (a drill resumed after a restart, or a
 * second runtime) at its current resourceVersion: some kinds (admission policies) refuse an
 * update without one, with a 422.
 */
export async function upsert<T extends { metadata?: { resourceVersion?: string } }>(
  body: T,
  create: (body: T) => Promise<unknown>,
  read: () => Promise<T>,
  replace: (body: T) => Promise<unknown>,
): Promise<void> {
  try {
    await create(body);
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
    // Another writer may replace it between our read and our replace (409 again): read again.
    for (let attempt = 1; ; attempt += 1) {
      const current = await read();
      try {
        await replace({ ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } });
        return;
      } catch (conflict) {
        if (!isStatus(conflict, 409) || attempt === 5) throw conflict;
      }
    }
  }
}
