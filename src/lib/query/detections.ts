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

/*
 * Who is allowed to look like an attacker, and only while doing what it always does. There is no
 * blanket exclusion of `system:serviceaccount:kube-system:*`: a token minted or stolen for a
 * kube-system service account (TokenRequest, a legacy token secret) is exactly what an attacker
 * with some RBAC reach goes for, so each rule names the control-plane identities it would
 * otherwise hit and the behaviour that is theirs. kube-controller-manager runs each controller as
 * its own service account (--use-service-account-credentials, as kubeadm and irlab's engine do:
 * docs/engine.md "Realistic audit identities") and sends the user agent
 * `kube-controller-manager/<version> (...) kubernetes/<commit>/system:serviceaccount:kube-system:<controller>`; a controller's token
 * used from kubectl, curl or a client library carries another agent. The agent is client-claimed:
 * a careful attacker can copy it, which is why each exclusion also pins the behaviour.
 */

/**
 * The controller manager's root client, which mints its controllers' tokens: system:kube-controller-manager
 * on kubeadm; on kwok-based control planes, irlab's embedded engine included, it authenticates with
 * an admin certificate (system:masters) and is told apart by its user agent. A system:masters
 * identity can do anything already; the agent alone would not be enough.
 */
const CONTROLLER_MANAGER_ROOT = `(user.username == "system:kube-controller-manager" OR (user.groups == "system:masters" AND userAgent == "kube-controller-manager/*"))`;
/** The API server's loopback client and the controller manager's root client (certificates on the control-plane node, not tokens a pod holds). */
const APISERVER_AND_CONTROLLER_MANAGER = `(user.username == "system:apiserver" OR ${CONTROLLER_MANAGER_ROOT})`;
/** Kubelets: the Node authorizer limits each to the secrets and pods of its own node. */
const KUBELET = `(user.username == "system:node:*" AND user.groups == "system:nodes")`;
const sa = (name: string) => `"system:serviceaccount:kube-system:${name}"`;
/** One or more kube-controller-manager controllers, as their service accounts and with its user agent. */
const controller = (...names: string[]) =>
  `${names.length === 1 ? `user.username == ${sa(names[0]!)}` : `user.username in (${names.map(sa).join(', ')})`} AND userAgent == "kube-controller-manager/*"`;

/** Workload kinds: creating one in kube-system makes its controller create pods there on the creator's behalf. */
const WORKLOADS = `("pods", "deployments", "replicasets", "daemonsets", "statefulsets", "jobs", "cronjobs", "replicationcontrollers")`;
/**
 * What kube-controller-manager creates on behalf of a workload someone else created: pods from
 * ReplicaSets, DaemonSets, Jobs, StatefulSets and ReplicationControllers, ReplicaSets from
 * Deployments, Jobs from CronJobs. The human decision, and the alert, is the workload's creation.
 */
const CONTROLLER_CREATES = `(objectRef.resource == "pods" AND ${controller('replicaset-controller', 'daemon-set-controller', 'job-controller', 'statefulset-controller', 'replication-controller')})
  OR (objectRef.resource == "replicasets" AND ${controller('deployment-controller')})
  OR (objectRef.resource == "jobs" AND ${controller('cronjob-controller')})`;

/** Pod specs that reach the node: privileged containers, the host's PID or IPC namespace, host paths. In a pod, a workload's template, a CronJob's job template. */
const HOST_ACCESS = ['requestObject.spec', 'requestObject.spec.template.spec', 'requestObject.spec.jobTemplate.spec.template.spec']
  .map(
    (spec) => `${spec}.hostPID == true OR ${spec}.hostIPC == true
  OR ${spec}.containers.securityContext.privileged == true OR ${spec}.initContainers.securityContext.privileged == true
  OR ${spec}.volumes.hostPath exists`,
  )
  .join('\n  OR ');

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
AND NOT ${APISERVER_AND_CONTROLLER_MANAGER}
AND NOT ${KUBELET}
AND NOT (${controller('namespace-controller')} AND verb == "list")
AND NOT (${controller('generic-garbage-collector')} AND verb == "get")
| bin 10m
| dc(objectRef.namespace) by user.username
| where dc >= 3`,
    falsePositives: ['secret-syncing operators (external-secrets, cert-manager) when they read namespace by namespace', 'backup tools'],
    limits:
      'A cluster-wide list (kubectl get secrets -A) has no objectRef.namespace, so it counts as no namespace here; query it separately (objectRef.resource == "secrets" AND verb == "list" AND NOT objectRef.namespace exists). The namespace controller lists what is left in a namespace being deleted and the garbage collector gets a dependent before deleting it: both are allowed only with kube-controller-manager\'s user agent.',
  },
  {
    id: 'rbac-escalation',
    title: 'RBAC escalation: cluster role binding or powerful role binding created',
    signal: 'RBAC escalation',
    description:
      'A ClusterRoleBinding created, patched or updated by anything but the API server reconciling its defaults, or a RoleBinding to cluster-admin, admin or edit: granting an identity more power.',
    attack: [{ id: 'T1098.006', name: 'Account Manipulation: Additional Container Cluster Roles', tactic: 'persistence' }],
    level: 'critical',
    query: `verb in ("create", "patch", "update")
AND objectRef.apiGroup == "rbac.authorization.k8s.io"
AND (objectRef.resource == "clusterrolebindings"
  OR (objectRef.resource == "rolebindings" AND requestObject.roleRef.name in ("cluster-admin", "admin", "edit")))
AND NOT user.username == "system:apiserver"`,
    falsePositives: ['Helm, Argo CD or Flux installing operators (their identity is known: exclude it)', 'cluster bootstrap and upgrades (kubeadm as the cluster admin)'],
    limits:
      'The RoleBinding branch reads requestObject.roleRef, present only when RBAC writes are logged at Request level or higher; at Metadata level only ClusterRoleBindings are caught. No controller writes bindings, so no kube-system service account is excluded.',
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
      'A secret holding a long-lived service-account token read by anything but its node or the control plane: with it the thief acts as the workload from anywhere.',
    attack: [
      { id: 'T1528', name: 'Steal Application Access Token', tactic: 'credential-access' },
      { id: 'T1552.007', name: 'Unsecured Credentials: Container API', tactic: 'credential-access' },
    ],
    level: 'critical',
    // No controller service account is excluded: the tokens controller runs on the root client
    // (allowed), and the legacy token cleaner reads through the shared informers, then only
    // patches or deletes by name.
    query: `verb in ("get", "list", "watch")
AND objectRef.resource == "secrets"
AND (objectRef.name == "*-token" OR objectRef.name == "*-token-*"
  OR responseObject.type == "kubernetes.io/service-account-token"
  OR responseObject.items.type == "kubernetes.io/service-account-token")
AND NOT ${APISERVER_AND_CONTROLLER_MANAGER}
AND NOT ${KUBELET}`,
    falsePositives: ['admins migrating off legacy tokens', 'CI systems that still use a legacy token secret'],
    limits:
      "At Metadata or Request level a get has no body, so the rule matches the legacy naming convention <sa>-token-<suffix> and names ending in -token; tokens under other names are only caught at RequestResponse level, where responseObject.type shows the type but the log then also holds the token itself. Using the stolen token is logged under the service account's own name: compare sourceIPs with the pod's IP, and look for the authentication.k8s.io/legacy-token annotation.",
  },
  {
    id: 'kube-system-token-request',
    title: 'Token minted for a kube-system service account',
    signal: 'Token theft',
    description:
      'A token requested with the TokenRequest API (serviceaccounts/token) for a kube-system service account by anyone but the controller manager, which mints its controllers\' tokens, and the kubelets, which mint tokens for the pods they run. Controllers\' accounts can read every secret or create pods anywhere.',
    attack: [{ id: 'T1528', name: 'Steal Application Access Token', tactic: 'credential-access' }],
    level: 'critical',
    query: `verb == "create"
AND objectRef.resource == "serviceaccounts"
AND objectRef.subresource == "token"
AND objectRef.namespace == "kube-system"
AND NOT ${CONTROLLER_MANAGER_ROOT}
AND NOT ${KUBELET}`,
    falsePositives: ['add-on managers that mint tokens for their own kube-system accounts', 'an administrator running kubectl create token -n kube-system'],
    limits:
      'Only the minting is seen here: the token\'s later use is logged under the service account\'s name (with a credential id in user.extra). Tokens minted for other namespaces\' accounts are a separate query (drop the namespace clause); there, CI systems and secret managers are the usual false positives.',
  },
  {
    id: 'kube-system-workload',
    title: 'Pod or workload created in kube-system outside the control plane',
    signal: 'Namespace escape',
    description:
      'A pod, or a workload that makes pods (Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, ReplicationController), created in kube-system, where the most privileged service accounts live and Pod Security is often not enforced, by anyone but the controllers acting for an existing workload and kubelets mirroring static pods.',
    attack: [
      { id: 'T1610', name: 'Deploy Container', tactic: 'execution' },
      { id: 'T1543', name: 'Create or Modify System Process', tactic: 'persistence' },
    ],
    level: 'critical',
    query: `verb == "create"
AND objectRef.namespace == "kube-system"
AND objectRef.resource in ${WORKLOADS}
AND NOT objectRef.subresource exists
AND NOT (${CONTROLLER_CREATES})
AND NOT (objectRef.resource == "pods" AND ${KUBELET})`,
    falsePositives: ['admins installing system components by hand (should come through the pipeline)', 'add-on managers and operators that install into kube-system (exclude their identity)'],
    limits:
      'Pods that controllers create for a workload are not flagged again: the workload\'s creation is. Subresources (pods/binding from the scheduler, pods/eviction from drains) are excluded by requiring no objectRef.subresource. A controller\'s service account is allowed only with kube-controller-manager\'s user agent and only for what that controller makes.',
  },
  {
    id: 'host-access-pod',
    title: 'Pod with host access: privileged, host PID or IPC, host path',
    signal: 'Namespace escape',
    description:
      'A pod, or a workload template, asking for the node itself: a privileged container (also an ephemeral debug container), the host PID or IPC namespace, or a hostPath volume, in any namespace. From there a container reaches the node and every pod on it.',
    attack: [
      { id: 'T1611', name: 'Escape to Host', tactic: 'privilege-escalation' },
      { id: 'T1610', name: 'Deploy Container', tactic: 'execution' },
    ],
    level: 'critical',
    query: `verb in ("create", "update", "patch")
AND objectRef.resource in ${WORKLOADS}
AND (NOT objectRef.subresource exists OR objectRef.subresource == "ephemeralcontainers")
AND (${HOST_ACCESS}
  OR requestObject.spec.ephemeralContainers.securityContext.privileged == true)
AND NOT (${CONTROLLER_CREATES})
AND NOT (objectRef.resource == "pods" AND ${KUBELET})`,
    falsePositives: ['node agents installed as DaemonSets: CNI plugins, kube-proxy, log shippers, Falco itself (exclude their deployer and names)', 'kubectl debug node/... by an administrator'],
    limits:
      'Reads requestObject, which is logged only at Request level or higher for pods and workloads: at Metadata level this rule sees nothing, so log pod and workload writes at Request. Pods created by a controller for a workload are not flagged again: the workload (its template) is. hostNetwork alone is not flagged: many node agents use it.',
  },
];

export function detectionById(id: string): DetectionRule | undefined {
  return DETECTIONS.find((rule) => rule.id === id);
}
