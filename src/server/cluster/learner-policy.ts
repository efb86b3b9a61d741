/**
 * What a learner holds on a lab cluster whose pods are real containers (kind), instead of the
 * cluster's admin credential: a client certificate of their own (group LEARNER_GROUP) bound to a
 * ClusterRole that reads everything and changes what containment and eradication change, plus
 * ValidatingAdmissionPolicies that keep every pod they could start off the node. A kind node is a
 * privileged container of this machine: a privileged or host-namespace pod, or a hostPath volume,
 * reaches the host's disks (tests/kind-clusters/kind-labs.test.ts).
 *
 * The policies match the learner group AND every service account outside the system namespaces:
 * the incident hands the learner stolen tokens (a legacy token Secret, the compromised pod's
 * projected token, an attacker's cluster-admin binding), so the rule must hold for whatever
 * identity the learner borrows. System identities (the admin, nodes, kube-system's controllers,
 * which start kube-proxy and the CNI's privileged pods) are not matched.
 *
 * They are static admission manifests (kind-boundary.ts), not API objects: no credential in the
 * cluster can delete them, and impersonation, which would let a borrowed identity pass as a
 * system one, is refused by the cluster's authorization chain. Resting on the identity is then
 * sound, as long as no scenario hands the learner a system identity (kube-system's tokens, a
 * node's credential; arming deletes the bootstrap tokens a node could be made from).
 *
 * Pure builders only; learner-access.ts applies them.
 */
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';

export const LEARNER_GROUP = 'irlab:learners';
export const LEARNER_ROLE = 'irlab:learner';
/** Namespaces whose service accounts run the cluster itself; a learner creates nothing there. */
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'] as const;
/** Pod Security Standards' baseline list: capabilities a container may add without reaching the node. */
export const SAFE_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'] as const;
export const POLICY_NAMES = {
  pods: 'irlab-learner-pods',
  connect: 'irlab-learner-connect',
  rbac: 'irlab-learner-rbac',
  system: 'irlab-learner-system-namespaces',
  cluster: 'irlab-learner-cluster-scope',
} as const;
/**
 * A namespace label the scenario sets where its world runs pods a learner must not enter (a
 * privileged, host-PID pod is the node): exec, attach, port-forward and ephemeral containers are
 * refused there, and the label cannot be changed by the learner.
 */
export const NO_CONNECT_LABEL = 'irlab.dev/learner-connect';

const write = ['create', 'update', 'patch', 'delete'];

/** What incident response reads, in every API group (top-level resources, plus pod logs and status). */
export const READABLE = [
  'pods', 'pods/log', 'pods/status', 'services', 'endpoints', 'endpointslices', 'configmaps', 'secrets', 'serviceaccounts', 'namespaces', 'nodes', 'events',
  'persistentvolumes', 'persistentvolumeclaims', 'resourcequotas', 'limitranges', 'replicationcontrollers', 'podtemplates',
  'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions', 'jobs', 'cronjobs', 'horizontalpodautoscalers', 'poddisruptionbudgets',
  'networkpolicies', 'ingresses', 'ingressclasses', 'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings',
  'validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'validatingwebhookconfigurations', 'mutatingwebhookconfigurations',
  'customresourcedefinitions', 'apiservices', 'leases', 'priorityclasses', 'runtimeclasses', 'storageclasses', 'csinodes', 'csidrivers', 'volumeattachments',
  'certificatesigningrequests', 'flowschemas', 'prioritylevelconfigurations',
] as const;
const managed = { 'app.kubernetes.io/managed-by': 'irlab' };

/**
 * Read everything; contain, preserve evidence, eradicate. Absent on purpose: impersonate,
 * escalate, bind, serviceaccounts/token, certificatesigningrequests (create/approve), nodes/proxy,
 * admissionregistration writes, creating RBAC objects (RBAC's own rule then also keeps an update
 * from granting more than the learner holds).
 */
export const LEARNER_RULES: V1PolicyRule[] = [
  // Named, not '*': a wildcard also grants subresources, and GET on nodes/proxy reaches the
  // kubelet's API (exec into any container of the node, the privileged ones included).
  { apiGroups: ['*'], resources: [...READABLE], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: [...write, 'deletecollection'] },
  // kubectl exec, cp (an exec), logs, attach, port-forward; the policies keep them off system pods.
  { apiGroups: [''], resources: ['pods/exec', 'pods/attach', 'pods/portforward'], verbs: ['create', 'get'] },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['update', 'patch'] },
  { apiGroups: [''], resources: ['secrets', 'configmaps', 'services', 'serviceaccounts'], verbs: write },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['patch', 'update'] },
  // Isolating a node (cordon, taint); the kubelet's API (nodes/proxy) and status are not included.
  { apiGroups: [''], resources: ['nodes'], verbs: ['patch', 'update'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale'], verbs: write },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: write },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: write },
  // Remove what the attacker bound, give back least privilege. RBAC's own escalation check
  // bounds what the learner grants by what they hold (no `bind`, no `escalate`); the rbac policy
  // keeps borrowed tokens, which may hold cluster-admin, to deleting.
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: write },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
  // `kubectl auth can-i --list --as <identity>` (scoping what a compromised identity may do):
  // constrained impersonation of anyone, for self reviews only; the cluster's authorization
  // chain refuses any other impersonated action, and the unconstrained `impersonate` verb
  // (kind-boundary.ts). A review only answers a question: it changes nothing.
  { apiGroups: ['authentication.k8s.io'], resources: ['serviceaccounts'], verbs: ['impersonate:serviceaccount'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['users', 'groups'], verbs: ['impersonate:user-info'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews', 'selfsubjectaccessreviews'], verbs: ['impersonate-on:serviceaccount:create', 'impersonate-on:user-info:create'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews', 'selfsubjectreviews'], verbs: ['create'] },
];

export function learnerRole(): V1ClusterRole {
  return { metadata: { name: LEARNER_ROLE, labels: managed }, rules: LEARNER_RULES };
}

export function learnerBinding(): V1ClusterRoleBinding {
  return {
    metadata: { name: LEARNER_GROUP, labels: managed },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: LEARNER_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: LEARNER_GROUP }],
  };
}

const quoted = (items: readonly string[]): string => `[${items.map((i) => `'${i}'`).join(', ')}]`;

/** The learner, or a service account outside the system namespaces (a token the learner may hold). */
export const BORROWABLE = `'${LEARNER_GROUP}' in request.userInfo.groups || (request.userInfo.username.startsWith('system:serviceaccount:') && !(request.userInfo.username.split(':')[2] in ${quoted(SYSTEM_NAMESPACES)}))`;

/** CEL: every container of `list` (a field of the pod spec `s`) stays in its container. */
export function containersConfined(list: 'containers' | 'initContainers' | 'ephemeralContainers', s = 'variables.s'): string {
  const c = `(!has(${s}.${list}) || ${s}.${list}.all(c, `;
  return `${c}!has(c.securityContext) || (` +
    '(!has(c.securityContext.privileged) || !c.securityContext.privileged) && ' +
    "(!has(c.securityContext.procMount) || c.securityContext.procMount == 'Default') && " +
    `(!has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(x, x in ${quoted(SAFE_CAPABILITIES)}))` +
    ')))';
}

// The pod spec of the object under admission: a Pod itself, a CronJob's job template, or a workload's template.
const podSpecOf = (o: string): string => `${o}.kind == 'Pod' ? ${o}.spec : (${o}.kind == 'CronJob' ? ${o}.spec.jobTemplate.spec.template.spec : ${o}.spec.template.spec)`;
const POD_SPEC = podSpecOf('object');
/**
 * An update that leaves the pod spec as it was (a label on the compromised pod, a replica count)
 * starts nothing new: the world's own privileged pod can still be labelled for quarantine.
 */
export const SPEC_CHANGED = `request.operation != 'UPDATE' || oldObject == null || (${podSpecOf('oldObject')}) != (${POD_SPEC})`;
/** CEL: the request's namespace carries NO_CONNECT_LABEL=refused. */
export const NO_CONNECT_NAMESPACE = `namespaceObject != null && has(namespaceObject.metadata.labels) && '${NO_CONNECT_LABEL}' in namespaceObject.metadata.labels && namespaceObject.metadata.labels['${NO_CONNECT_LABEL}'] == 'refused'`;
const MESSAGE = 'irlab: a learner\'s pods stay off the node';

export function podsPolicy(): V1ValidatingAdmissionPolicy {
  const workloads = ['deployments', 'daemonsets', 'statefulsets', 'replicasets'];
  return {
    metadata: { name: POLICY_NAMES.pods, labels: managed },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers'] },
          { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: workloads },
          { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'] },
        ],
      },
      matchConditions: [{ name: 'borrowable-identity', expression: BORROWABLE }, { name: 'spec-changed', expression: SPEC_CHANGED }],
      variables: [{ name: 's', expression: POD_SPEC }],
      validations: [
        {
          expression: `!(has(request.subResource) && request.subResource == 'ephemeralcontainers') || !(${NO_CONNECT_NAMESPACE})`,
          message: `${MESSAGE}: no ephemeral container in a namespace whose pods share the node (${NO_CONNECT_LABEL}=refused)`,
          reason: 'Forbidden',
        },
        // A pod in a system namespace runs as the controllers' service accounts (their tokens escalate).
        { expression: `!(request.namespace in ${quoted(SYSTEM_NAMESPACES)})`, message: `${MESSAGE}: nothing is started in a system namespace (${SYSTEM_NAMESPACES.join(', ')})`, reason: 'Forbidden' },
        ...(['containers', 'initContainers', 'ephemeralContainers'] as const).map((list) => ({
          expression: containersConfined(list),
          message: `${MESSAGE}: no privileged container, no procMount, no capability beyond ${SAFE_CAPABILITIES.join(',')}`,
          reason: 'Forbidden',
        })),
        {
          expression: '!(has(variables.s.hostPID) && variables.s.hostPID) && !(has(variables.s.hostIPC) && variables.s.hostIPC) && !(has(variables.s.hostNetwork) && variables.s.hostNetwork)',
          message: `${MESSAGE}: no hostPID, hostIPC or hostNetwork`,
          reason: 'Forbidden',
        },
        { expression: '!has(variables.s.volumes) || variables.s.volumes.all(v, !has(v.hostPath))', message: `${MESSAGE}: no hostPath volume`, reason: 'Forbidden' },
        {
          expression: "(!has(variables.s.containers) || variables.s.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))) && (!has(variables.s.initContainers) || variables.s.initContainers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)))",
          message: `${MESSAGE}: no hostPort`,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/**
 * CONNECT carries PodExecOptions (or attach/port-forward options), not the pod: CEL cannot read
 * the target's spec. Every privileged or host-namespace pod a learner can reach was started by the
 * cluster itself in a system namespace (the pods policy refuses the learner's own), so exec,
 * attach and port-forward are refused there by namespace.
 */
export function connectPolicy(): V1ValidatingAdmissionPolicy {
  return {
    metadata: { name: POLICY_NAMES.connect, labels: managed },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CONNECT'], resources: ['pods/exec', 'pods/attach', 'pods/portforward'] }] },
      matchConditions: [{ name: 'borrowable-identity', expression: BORROWABLE }],
      validations: [
        {
          expression: `!(request.namespace in ${quoted(SYSTEM_NAMESPACES)})`,
          message: `irlab: a learner does not exec, attach or port-forward into the cluster's own pods (${SYSTEM_NAMESPACES.join(', ')}): some are privileged or share the node's namespaces`,
          reason: 'Forbidden',
        },
        {
          expression: `!(${NO_CONNECT_NAMESPACE})`,
          message: `irlab: a learner does not exec, attach or port-forward into pods that share the node (namespace labelled ${NO_CONNECT_LABEL}=refused): collect from them through irlab's node evidence instead`,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/**
 * A borrowed token only deletes RBAC objects. Creating or rewriting a binding is how a stolen
 * token (the incident's CI deployer may bind cluster-admin) would grant itself the cluster;
 * minting tokens and CSRs is how it would outlive the incident. The learner's own credential may
 * create and rewrite them (least privilege given back), within what RBAC lets them grant. The
 * learner's own role and binding are the platform's: changing them would lock the learner out.
 */
export function rbacPolicy(): V1ValidatingAdmissionPolicy {
  return {
    metadata: { name: POLICY_NAMES.rbac, labels: managed },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] },
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['serviceaccounts/token'] },
          { apiGroups: ['certificates.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['certificatesigningrequests', 'certificatesigningrequests/approval', 'certificatesigningrequests/status'] },
        ],
      },
      matchConditions: [{ name: 'borrowable-identity', expression: BORROWABLE }],
      validations: [
        {
          expression: `request.resource.group != 'rbac.authorization.k8s.io' || request.operation == 'DELETE' || '${LEARNER_GROUP}' in request.userInfo.groups`,
          message: 'irlab: a borrowed token removes roles and bindings during an incident, never creates or rewrites them (use your own credential to give back least privilege)',
          reason: 'Forbidden',
        },
        { expression: "request.resource.resource != 'serviceaccounts'", message: 'irlab: no new service account tokens during an incident', reason: 'Forbidden' },
        { expression: "request.resource.group != 'certificates.k8s.io'", message: 'irlab: no certificate signing requests during an incident', reason: 'Forbidden' },
        {
          expression: `request.operation == 'CREATE' || request.resource.group != 'rbac.authorization.k8s.io' || !(oldObject.metadata.name in ['${LEARNER_ROLE}', '${LEARNER_GROUP}'])`,
          message: 'irlab: the learner\'s own role and binding are the platform\'s, not part of the incident',
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/**
 * The system namespaces are the platform's: nothing is created, changed or entered there. Deleting
 * and evicting stay open, because eradication removes what an attacker started in kube-system and
 * isolating a node drains it (the world's own controllers recreate whatever else goes).
 */
export function systemNamespacesPolicy(): V1ValidatingAdmissionPolicy {
  return {
    metadata: { name: POLICY_NAMES.system, labels: managed },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...SYSTEM_NAMESPACES] }] },
        resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'CONNECT'], resources: ['*/*'], scope: 'Namespaced' }],
      },
      matchConditions: [{ name: 'borrowable-identity', expression: BORROWABLE }],
      // An eviction is a graceful delete (what `kubectl drain` sends): open like deleting.
      validations: [{ expression: "has(request.subResource) && request.subResource == 'eviction'", message: `irlab: the system namespaces (${SYSTEM_NAMESPACES.join(', ')}) are the platform's: nothing is created, changed or entered there during an incident`, reason: 'Forbidden' }],
    },
  };
}

/**
 * Cluster-wide objects that reach the node or the API server's own decisions: admission objects
 * (a mutating policy could rewrite the pods the cluster's controllers start), PersistentVolumes (a
 * pod reaches a node path through a claim without any hostPath in its spec), storage and runtime
 * classes, API services, the kubelet's proxy, and the no-connect label on namespaces.
 */
export function clusterScopePolicy(): V1ValidatingAdmissionPolicy {
  const label = (o: string) => `(has(${o}.metadata.labels) && '${NO_CONNECT_LABEL}' in ${o}.metadata.labels ? ${o}.metadata.labels['${NO_CONNECT_LABEL}'] : '')`;
  return {
    metadata: { name: POLICY_NAMES.cluster, labels: managed },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          { apiGroups: ['admissionregistration.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*'] },
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['persistentvolumes'] },
          { apiGroups: ['storage.k8s.io', 'node.k8s.io', 'apiregistration.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['*'] },
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CONNECT'], resources: ['nodes/proxy'] },
          { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['namespaces'] },
        ],
      },
      matchConditions: [{ name: 'borrowable-identity', expression: BORROWABLE }],
      validations: [
        {
          expression: "request.resource.resource == 'namespaces'",
          messageExpression: "'irlab: ' + request.resource.resource + (has(request.subResource) && request.subResource != '' ? '/' + request.subResource : '') + ' are the platform\\'s during an incident: they reach the node or the API server\\'s own admission'",
          reason: 'Forbidden',
        },
        {
          expression: `request.resource.resource != 'namespaces' || ${label('object')} == ${label('oldObject')}`,
          message: `irlab: the ${NO_CONNECT_LABEL} label is the platform's`,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

export function learnerPolicies(): V1ValidatingAdmissionPolicy[] {
  return [podsPolicy(), connectPolicy(), rbacPolicy(), systemNamespacesPolicy(), clusterScopePolicy()];
}

export function policyBinding(policy: V1ValidatingAdmissionPolicy): V1ValidatingAdmissionPolicyBinding {
  const name = policy.metadata?.name ?? '';
  return { metadata: { name, labels: managed }, spec: { policyName: name, validationActions: ['Deny'] } };
}
