/**
 * The Kubernetes kinds a scenario may create or touch, with what validation needs to know
 * without a cluster: the apiVersion, whether objects live in a namespace, the API resource
 * (plural, as the audit log names it) and the top-level fields a manifest may have. A typo in a
 * kind or a field is caught here, before seeding, with a "did you mean".
 */
export interface KindInfo {
  apiVersion: string;
  /** Plural resource name, as in `objectRef.resource`. */
  resource: string;
  namespaced: boolean;
  /** Top-level fields besides apiVersion, kind and metadata. */
  fields: readonly string[];
  /** Fields allowed under `spec`, when the kind has one worth checking. */
  specFields?: readonly string[];
}

const podSpec = [
  'containers', 'initContainers', 'serviceAccountName', 'automountServiceAccountToken', 'nodeName', 'nodeSelector',
  'hostPID', 'hostNetwork', 'hostIPC', 'volumes', 'securityContext', 'tolerations', 'restartPolicy', 'affinity',
  'terminationGracePeriodSeconds', 'dnsPolicy', 'priorityClassName', 'enableServiceLinks',
];

export const KINDS: Record<string, KindInfo> = {
  Namespace: { apiVersion: 'v1', resource: 'namespaces', namespaced: false, fields: ['spec'] },
  ServiceAccount: {
    apiVersion: 'v1', resource: 'serviceaccounts', namespaced: true,
    fields: ['automountServiceAccountToken', 'secrets', 'imagePullSecrets'],
  },
  Secret: { apiVersion: 'v1', resource: 'secrets', namespaced: true, fields: ['type', 'data', 'stringData', 'immutable'] },
  ConfigMap: { apiVersion: 'v1', resource: 'configmaps', namespaced: true, fields: ['data', 'binaryData', 'immutable'] },
  Pod: { apiVersion: 'v1', resource: 'pods', namespaced: true, fields: ['spec'], specFields: podSpec },
  Service: {
    apiVersion: 'v1', resource: 'services', namespaced: true, fields: ['spec'],
    specFields: ['selector', 'ports', 'type', 'clusterIP', 'sessionAffinity'],
  },
  Node: { apiVersion: 'v1', resource: 'nodes', namespaced: false, fields: ['spec'] },
  Deployment: {
    apiVersion: 'apps/v1', resource: 'deployments', namespaced: true, fields: ['spec'],
    specFields: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'],
  },
  DaemonSet: {
    apiVersion: 'apps/v1', resource: 'daemonsets', namespaced: true, fields: ['spec'],
    specFields: ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'],
  },
  CronJob: {
    apiVersion: 'batch/v1', resource: 'cronjobs', namespaced: true, fields: ['spec'],
    specFields: ['schedule', 'jobTemplate', 'suspend', 'concurrencyPolicy', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'timeZone', 'startingDeadlineSeconds'],
  },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'roles', namespaced: true, fields: ['rules'] },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles', namespaced: false, fields: ['rules', 'aggregationRule'] },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'rolebindings', namespaced: true, fields: ['roleRef', 'subjects'] },
  ClusterRoleBinding: {
    apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterrolebindings', namespaced: false, fields: ['roleRef', 'subjects'],
  },
  // Reviews an identity asks about itself (`kubectl auth can-i`): what attackers run first with
  // a token they just found. Anyone authenticated may create them; they are only audited.
  SelfSubjectRulesReview: { apiVersion: 'authorization.k8s.io/v1', resource: 'selfsubjectrulesreviews', namespaced: false, fields: ['spec'] },
  SelfSubjectAccessReview: { apiVersion: 'authorization.k8s.io/v1', resource: 'selfsubjectaccessreviews', namespaced: false, fields: ['spec'] },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1', resource: 'networkpolicies', namespaced: true, fields: ['spec'],
    specFields: ['podSelector', 'policyTypes', 'ingress', 'egress'],
  },
};

export const METADATA_FIELDS = ['name', 'namespace', 'labels', 'annotations'] as const;

export const KIND_NAMES = Object.keys(KINDS);
