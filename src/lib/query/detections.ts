/**
 * The built-in detections for the five signals of lesson L18, written in the query language so
 * that learners can read, copy and change them. Each must fire on an attacker and stay quiet on a
 * cluster's ordinary traffic: control-plane components, kubelets, deployers, monitoring, admins.
 * docs/query.md explains each rule's reasoning and limits.
 */

export interface AttackTechnique {
  /** MITRE ATT&CK technique id, e.g. T1609. */
  id: string;
  name: string;
  /** ATT&CK tactic slug, for Sigma tags (e.g. credential-access). */
  tactic: string;
}

export interface DetectionRule {
  /** Stable kebab-case id. */
  id: string;
  title: string;
  /** The lesson signal it implements. */
  signal: string;
  description: string;
  attack: AttackTechnique[];
  level: 'medium' | 'high' | 'critical';
  /** The rule, in the query language. */
  query: string;
  falsePositives: string[];
  /** What the audit log cannot show this rule, at which audit level. */
  limits?: string;
}

/** Control-plane and node identities: they read, create and bind things all day, by design. */
const NOT_CONTROL_PLANE = `NOT user.username in ("system:apiserver", "system:kube-controller-manager", "system:kube-scheduler")
AND NOT user.username == "system:node:*"
AND NOT user.username == "system:serviceaccount:kube-system:*"`;

export const DETECTIONS: readonly DetectionRule[] = [
  {
    id: 'secret-enumeration',
    title: 'Secret enumeration across namespaces',
    signal: 'Secret enumeration',
    description:
      'One identity reading secrets in three or more namespaces within ten minutes: credential hunting through the API (allowed or denied: 403s are failed enumeration).',
    attack: [
      { id: 'T1552.007', name: 'Unsecured Credentials: Container API', tactic: 'credential-access' },
      { id: 'T1613', name: 'Container and Resource Discovery', tactic: 'discovery' },
    ],
    level: 'high',
    query: `verb in ("get", "list", "watch")
AND objectRef.resource == "secrets"
AND ${NOT_CONTROL_PLANE}
| bin 10m
| dc(objectRef.namespace) by user.username
| where dc >= 3`,
    falsePositives: ['secret-syncing operators (external-secrets, cert-manager) when they read namespace by namespace', 'backup tools'],
    limits:
      'A cluster-wide list (kubectl get secrets -A) has no objectRef.namespace, so it counts as no namespace here; query it separately (objectRef.resource == "secrets" AND verb == "list" AND NOT objectRef.namespace exists).',
  },
  {
    id: 'rbac-escalation',
    title: 'RBAC escalation: cluster role binding or powerful role binding created',
    signal: 'RBAC escalation',
    description:
      'A ClusterRoleBinding created, patched or updated by anything but the control plane, or a RoleBinding to cluster-admin, admin or edit: granting an identity more power.',
    attack: [{ id: 'T1098.006', name: 'Account Manipulation: Additional Container Cluster Roles', tactic: 'persistence' }],
    level: 'critical',
    query: `verb in ("create", "patch", "update")
AND objectRef.apiGroup == "rbac.authorization.k8s.io"
AND (objectRef.resource == "clusterrolebindings"
  OR (objectRef.resource == "rolebindings" AND requestObject.roleRef.name in ("cluster-admin", "admin", "edit")))
AND ${NOT_CONTROL_PLANE}`,
    falsePositives: ['Helm, Argo CD or Flux installing operators (their identity is known: exclude it)', 'cluster bootstrap and upgrades'],
    limits:
      'The RoleBinding branch reads requestObject.roleRef, present only when RBAC writes are logged at Request level or higher; at Metadata level only ClusterRoleBindings are caught.',
  },
  {
    id: 'pod-exec-production',
    title: 'Exec or attach into a production pod',
    signal: 'Pod exec abuse',
    description:
      'An interactive channel (exec or attach) opened into a pod in a production namespace. Older kubectl (SPDY) logs it as create, newer kubectl (WebSockets) as get: both count.',
    attack: [{ id: 'T1609', name: 'Container Administration Command', tactic: 'execution' }],
    level: 'high',
    query: `verb in ("create", "get")
AND objectRef.resource == "pods"
AND objectRef.subresource in ("exec", "attach")
AND objectRef.namespace == "production*"`,
    falsePositives: ['on-call debugging (compare with incident records)', 'operators using exec for backups or hooks', 'your own kubectl cp while collecting evidence'],
  },
  {
    id: 'sa-token-theft',
    title: 'Service-account token secret read',
    signal: 'Token theft',
    description:
      'A secret holding a long-lived service-account token read by anything but the control plane: with it the thief acts as the workload from anywhere.',
    attack: [{ id: 'T1528', name: 'Steal Application Access Token', tactic: 'credential-access' }],
    level: 'critical',
    query: `verb in ("get", "list", "watch")
AND objectRef.resource == "secrets"
AND (objectRef.name == "*-token" OR objectRef.name == "*-token-*"
  OR responseObject.type == "kubernetes.io/service-account-token"
  OR responseObject.items.type == "kubernetes.io/service-account-token")
AND ${NOT_CONTROL_PLANE}`,
    falsePositives: ['admins migrating off legacy tokens', 'CI systems that still use a legacy token secret'],
    limits:
      "An audit event never records a secret's type at Metadata or Request level (a get has no body), so the rule matches the legacy naming convention <sa>-token-<suffix> and names ending in -token; tokens under other names are only caught at RequestResponse level, where responseObject.type shows the type but the log then also holds the token itself. Using the stolen token is logged under the service account's own name: compare sourceIPs with the pod's IP.",
  },
  {
    id: 'kube-system-pod',
    title: 'Pod created in kube-system by a non-system identity',
    signal: 'Namespace escape',
    description:
      'A pod created directly in kube-system, where the most privileged service accounts live and Pod Security is often not enforced, by anyone but the workload controllers and kubelets.',
    attack: [{ id: 'T1610', name: 'Deploy Container', tactic: 'execution' }],
    level: 'critical',
    query: `verb == "create"
AND objectRef.resource == "pods"
AND objectRef.namespace == "kube-system"
AND NOT objectRef.subresource exists
AND ${NOT_CONTROL_PLANE}`,
    falsePositives: ['admins installing system components by hand (should come through the pipeline)', 'managed add-on managers'],
    limits: 'Subresources (pods/binding from the scheduler, pods/eviction from drains) are excluded by requiring no objectRef.subresource.',
  },
];

export function detectionById(id: string): DetectionRule | undefined {
  return DETECTIONS.find((rule) => rule.id === id);
}
