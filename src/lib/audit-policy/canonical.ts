/**
 * The canonical requests an L18 audit policy is graded on: what an attacker with a stolen
 * service-account token does (read secrets, bind themselves to a role, exec into pods, mint
 * tokens, plant a workload) and what an admin changes. Each row is a real HTTP request, so the
 * live check can send it and the static check can derive its attributes the way the API server
 * does. Every write carries `dryRun=All`: audited like any write, but nothing changes even when
 * the identity is allowed to make it (the service account normally gets 403, which is audited too).
 */
import type { AuditLevel } from './types.ts';
import type { Identity } from './request-info.ts';

export type CriterionId =
  | 'policy-accepted'
  | 'secrets-audited'
  | 'rbac-changes-at-request-response'
  | 'pod-exec-at-request'
  | 'nodes-namespaces-at-metadata'
  | 'everything-else-at-metadata'
  | 'every-identity-audited'
  | 'response-bodies-bounded'
  | 'request-received-omitted';

/** Criteria graded from the table's rows (one minimum level each). */
export type RowCriterionId = Exclude<CriterionId, 'policy-accepted' | 'request-received-omitted' | 'every-identity-audited' | 'response-bodies-bounded'>;

export type ProbeIdentity = 'serviceAccount' | 'admin';

export interface CanonicalRequest {
  /** Stable id, e.g. `get-secret`. */
  id: string;
  /** What a person reads: "get secrets/db-credentials in production". */
  describe: string;
  as: ProbeIdentity;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, as sent. */
  path: string;
  body?: unknown;
  contentType?: string;
  /** The criterion this row counts for; absent: shown, not graded. */
  criterion?: RowCriterionId;
  /** Lowest level that passes (RBAC changes: exactly RequestResponse, the highest). */
  minimum?: AuditLevel;
  /** Secret material this request puts in the log at Request or RequestResponse (for the warning). */
  carriesSecret?: { request?: boolean; response?: boolean; what: string };
}

export interface CanonicalIdentities {
  serviceAccount: Identity;
  admin: Identity;
}

/**
 * Who the static check assumes; the live check asks the API server (SelfSubjectReview) instead.
 * The service account exists in every cluster; the admin is kind's and kubeadm's.
 */
export const DEFAULT_IDENTITIES: CanonicalIdentities = {
  serviceAccount: {
    user: 'system:serviceaccount:default:default',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
  },
  admin: { user: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
};

/** An identity the sweep evaluates every graded request as; `kind` is what messages say (never the name). */
export interface SweepIdentity extends Identity {
  kind: 'service account' | 'user' | 'node' | 'admin';
  /** Criteria this identity is not held to (a kubelet reads its own node all day: noise). */
  skip?: readonly RowCriterionId[];
}

const sa = (namespace: string, name: string): SweepIdentity => ({
  kind: 'service account',
  user: `system:serviceaccount:${namespace}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
});

/**
 * Identities that could act in an incident: a stolen service-account token from any namespace
 * (application, CI, monitoring, kube-system controllers), a person, a node's credential taken
 * after an escape, and the admin. A rule that lowers the level for any of them blinds the log to
 * whoever holds that credential. Well-known noise (kube-proxy's watches, health checks, events,
 * system:apiserver's own reads) is not here: exempting it is what practitioners do.
 */
export const SWEEP_IDENTITIES: readonly SweepIdentity[] = [
  sa('default', 'default'),
  sa('production', 'web-app'),
  sa('production', 'default'),
  sa('staging', 'default'),
  sa('payments', 'payments-api'),
  sa('ci', 'deployer'),
  sa('monitoring', 'prometheus'),
  sa('kube-system', 'replicaset-controller'),
  sa('kube-system', 'daemon-set-controller'),
  sa('kube-system', 'generic-garbage-collector'),
  { kind: 'user', user: 'jane@example.com', groups: ['developers', 'system:authenticated'] },
  // Unauthenticated requests: the scanning and probing before any credential is stolen.
  { kind: 'user', user: 'system:anonymous', groups: ['system:unauthenticated'] },
  { kind: 'node', user: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'], skip: ['nodes-namespaces-at-metadata', 'everything-else-at-metadata'] },
  { kind: 'admin', ...DEFAULT_IDENTITIES.admin },
];

export const PROBE_NAMESPACE = 'production';
const NS = `/api/v1/namespaces/${PROBE_NAMESPACE}`;
const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const DRY = '?dryRun=All';
const MERGE = 'application/merge-patch+json';
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials' }, stringData: { password: 'irlab-probe' } };
const role = (kind: string, name: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name },
  rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
});
const binding = (kind: string, name: string, roleKind: string, roleName: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
  subjects: [{ kind: 'ServiceAccount', name: 'web-app', namespace: PROBE_NAMESPACE }],
});

// Secrets at Metadata is enough: who touched which secret, and no secret value in the log.
const SECRETS = { criterion: 'secrets-audited', minimum: 'Metadata' } as const;
const RBAC_WRITE = { criterion: 'rbac-changes-at-request-response', minimum: 'RequestResponse' } as const;
const EXEC = { criterion: 'pod-exec-at-request', minimum: 'Request' } as const;
const NODES_NS = { criterion: 'nodes-namespaces-at-metadata', minimum: 'Metadata' } as const;
const OTHER = { criterion: 'everything-else-at-metadata', minimum: 'Metadata' } as const;

export const CANONICAL_REQUESTS: readonly CanonicalRequest[] = [
  // Secrets: who read which, and what was written.
  { id: 'get-secret', describe: 'get secrets/db-credentials in production', as: 'serviceAccount', method: 'GET', path: `${NS}/secrets/db-credentials`, ...SECRETS, carriesSecret: { response: true, what: 'the secret' } },
  { id: 'list-secrets', describe: 'list secrets in production', as: 'serviceAccount', method: 'GET', path: `${NS}/secrets`, ...SECRETS, carriesSecret: { response: true, what: 'every secret listed' } },
  { id: 'list-secrets-all', describe: 'list secrets in all namespaces', as: 'serviceAccount', method: 'GET', path: '/api/v1/secrets', ...SECRETS, carriesSecret: { response: true, what: 'every secret in the cluster' } },
  { id: 'watch-secrets', describe: 'watch secrets in production', as: 'serviceAccount', method: 'GET', path: `${NS}/secrets?watch=true&timeoutSeconds=1`, ...SECRETS },
  { id: 'create-secret', describe: 'create a secret in production', as: 'admin', method: 'POST', path: `${NS}/secrets${DRY}`, body: secret, ...SECRETS, carriesSecret: { request: true, response: true, what: 'the new secret' } },
  { id: 'update-secret', describe: 'update secrets/db-credentials in production', as: 'admin', method: 'PUT', path: `${NS}/secrets/db-credentials${DRY}`, body: secret, ...SECRETS, carriesSecret: { request: true, response: true, what: 'the new secret value' } },
  { id: 'patch-secret', describe: 'patch secrets/db-credentials in production', as: 'admin', method: 'PATCH', path: `${NS}/secrets/db-credentials${DRY}`, body: { stringData: { password: 'irlab-probe' } }, contentType: MERGE, ...SECRETS, carriesSecret: { request: true, response: true, what: 'the changed keys' } },
  { id: 'delete-secret', describe: 'delete secrets/db-credentials in production', as: 'admin', method: 'DELETE', path: `${NS}/secrets/db-credentials${DRY}`, ...SECRETS },

  // RBAC changes: privilege escalation and persistence.
  { id: 'create-clusterrolebinding', describe: 'create a clusterrolebinding', as: 'serviceAccount', method: 'POST', path: `${RBAC}/clusterrolebindings${DRY}`, body: binding('ClusterRoleBinding', 'irlab-probe', 'ClusterRole', 'cluster-admin'), ...RBAC_WRITE },
  { id: 'create-rolebinding', describe: 'create a rolebinding in production', as: 'serviceAccount', method: 'POST', path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${PROBE_NAMESPACE}/rolebindings${DRY}`, body: binding('RoleBinding', 'irlab-probe', 'ClusterRole', 'edit'), ...RBAC_WRITE },
  { id: 'create-role', describe: 'create a role in production', as: 'admin', method: 'POST', path: `${RBAC}/namespaces/${PROBE_NAMESPACE}/roles${DRY}`, body: role('Role', 'irlab-probe'), ...RBAC_WRITE },
  { id: 'create-clusterrole', describe: 'create a clusterrole', as: 'admin', method: 'POST', path: `${RBAC}/clusterroles${DRY}`, body: role('ClusterRole', 'irlab-probe'), ...RBAC_WRITE },
  { id: 'update-clusterrolebinding', describe: 'update clusterrolebindings/irlab-probe', as: 'admin', method: 'PUT', path: `${RBAC}/clusterrolebindings/irlab-probe${DRY}`, body: binding('ClusterRoleBinding', 'irlab-probe', 'ClusterRole', 'view'), ...RBAC_WRITE },
  { id: 'patch-clusterrole', describe: 'patch clusterroles/irlab-probe', as: 'admin', method: 'PATCH', path: `${RBAC}/clusterroles/irlab-probe${DRY}`, body: { rules: [] }, contentType: MERGE, ...RBAC_WRITE },
  { id: 'delete-rolebinding', describe: 'delete rolebindings/irlab-probe in production', as: 'admin', method: 'DELETE', path: `${RBAC}/namespaces/${PROBE_NAMESPACE}/rolebindings/irlab-probe${DRY}`, ...RBAC_WRITE },

  // Into running pods. kubectl sends exec/attach/port-forward as POST (SPDY) or, since 1.30/1.31, GET (WebSocket).
  { id: 'exec-post', describe: 'exec into pods/web-app in production (POST)', as: 'serviceAccount', method: 'POST', path: `${NS}/pods/web-app/exec?command=sh&stdin=true&stdout=true&tty=true`, ...EXEC },
  { id: 'exec-websocket', describe: 'exec into pods/web-app in production (GET, WebSocket)', as: 'serviceAccount', method: 'GET', path: `${NS}/pods/web-app/exec?command=id&stdout=true`, ...EXEC },
  { id: 'attach', describe: 'attach to pods/web-app in production', as: 'serviceAccount', method: 'POST', path: `${NS}/pods/web-app/attach?stdin=true&stdout=true`, ...EXEC },
  { id: 'portforward-post', describe: 'port-forward to pods/web-app in production (POST)', as: 'serviceAccount', method: 'POST', path: `${NS}/pods/web-app/portforward?ports=5432`, ...EXEC },
  { id: 'portforward-websocket', describe: 'port-forward to pods/web-app in production (GET, WebSocket)', as: 'serviceAccount', method: 'GET', path: `${NS}/pods/web-app/portforward?ports=5432`, ...EXEC },

  // Nodes and namespaces. A named namespace is its own namespace: `namespaces: [""]` misses it.
  { id: 'list-nodes', describe: 'list nodes', as: 'serviceAccount', method: 'GET', path: '/api/v1/nodes', ...NODES_NS },
  { id: 'get-node', describe: 'get nodes/node-1', as: 'serviceAccount', method: 'GET', path: '/api/v1/nodes/node-1', ...NODES_NS },
  { id: 'patch-node', describe: 'patch nodes/node-1', as: 'serviceAccount', method: 'PATCH', path: `/api/v1/nodes/node-1${DRY}`, body: { metadata: { labels: { probe: 'irlab' } } }, contentType: MERGE, ...NODES_NS },
  { id: 'list-namespaces', describe: 'list namespaces', as: 'serviceAccount', method: 'GET', path: '/api/v1/namespaces', ...NODES_NS },
  { id: 'create-namespace', describe: 'create a namespace', as: 'serviceAccount', method: 'POST', path: `/api/v1/namespaces${DRY}`, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'irlab-probe' } }, ...NODES_NS },
  { id: 'get-namespace', describe: 'get namespaces/kube-system', as: 'serviceAccount', method: 'GET', path: '/api/v1/namespaces/kube-system', ...NODES_NS },
  { id: 'delete-namespace', describe: 'delete namespaces/production', as: 'serviceAccount', method: 'DELETE', path: `/api/v1/namespaces/${PROBE_NAMESPACE}${DRY}`, ...NODES_NS },

  // Everything else: a sample across groups, scopes and subresources.
  { id: 'get-configmap', describe: 'get configmaps/web-app-config in production', as: 'serviceAccount', method: 'GET', path: `${NS}/configmaps/web-app-config`, ...OTHER },
  { id: 'list-pods', describe: 'list pods in production', as: 'serviceAccount', method: 'GET', path: `${NS}/pods`, ...OTHER },
  { id: 'create-pod-kube-system', describe: 'create a pod in kube-system', as: 'serviceAccount', method: 'POST', path: `/api/v1/namespaces/kube-system/pods${DRY}`, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'irlab-probe' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ...OTHER },
  { id: 'get-pod-log', describe: 'get pods/web-app/log in production', as: 'serviceAccount', method: 'GET', path: `${NS}/pods/web-app/log`, ...OTHER },
  { id: 'create-token', describe: 'create serviceaccounts/web-app/token in production', as: 'serviceAccount', method: 'POST', path: `${NS}/serviceaccounts/web-app/token${DRY}`, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [] } }, ...OTHER, carriesSecret: { response: true, what: 'the new token' } },
  { id: 'get-deployment', describe: 'get deployments/web-app in production', as: 'serviceAccount', method: 'GET', path: `/apis/apps/v1/namespaces/${PROBE_NAMESPACE}/deployments/web-app`, ...OTHER },
  { id: 'patch-deployment', describe: 'patch deployments/web-app in production', as: 'serviceAccount', method: 'PATCH', path: `/apis/apps/v1/namespaces/${PROBE_NAMESPACE}/deployments/web-app${DRY}`, body: { spec: { replicas: 3 } }, contentType: MERGE, ...OTHER },
  { id: 'create-daemonset', describe: 'create a daemonset in kube-system', as: 'serviceAccount', method: 'POST', path: `/apis/apps/v1/namespaces/kube-system/daemonsets${DRY}`, body: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'irlab-probe' } }, ...OTHER },
  { id: 'list-cronjobs', describe: 'list cronjobs in all namespaces', as: 'serviceAccount', method: 'GET', path: '/apis/batch/v1/cronjobs', ...OTHER },
  { id: 'list-clusterrolebindings', describe: 'list clusterrolebindings', as: 'serviceAccount', method: 'GET', path: `${RBAC}/clusterrolebindings`, ...OTHER },
  { id: 'get-role', describe: 'get roles/web-app in production', as: 'serviceAccount', method: 'GET', path: `${RBAC}/namespaces/${PROBE_NAMESPACE}/roles/web-app`, ...OTHER },
  { id: 'can-i-list', describe: 'create selfsubjectrulesreviews (kubectl auth can-i --list)', as: 'serviceAccount', method: 'POST', path: `/apis/authorization.k8s.io/v1/selfsubjectrulesreviews${DRY}`, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: PROBE_NAMESPACE } }, ...OTHER },
  { id: 'create-csr', describe: 'create a certificatesigningrequest', as: 'serviceAccount', method: 'POST', path: `/apis/certificates.k8s.io/v1/certificatesigningrequests${DRY}`, body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'irlab-probe' } }, ...OTHER },

  // Health and version checks and discovery: no object, asked constantly; not graded (see docs/audit-policy.md).
  { id: 'healthz', describe: 'GET /healthz', as: 'serviceAccount', method: 'GET', path: '/healthz' },
  { id: 'version', describe: 'GET /version', as: 'serviceAccount', method: 'GET', path: '/version' },
  { id: 'discovery', describe: 'GET /apis (discovery)', as: 'serviceAccount', method: 'GET', path: '/apis' },
];

/**
 * Probes sent by the live check carry these, so the lab's own investigation tools can tell them
 * from the learner's and the attacker's requests (the API server records X-Forwarded-For first in
 * `sourceIPs`). 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a real client.
 */
export const PROBE_SOURCE_IP = '192.0.2.250';
export const PROBE_USER_AGENT = 'irlab-policy-probe';
