/**
 * Policies and requests on which irlab's audit-policy evaluator and validator are compared with
 * a real kube-apiserver (audit-policy-differential.test.ts). Unit tests use the same lists, so
 * what they assert is what the API server was seen to do.
 */
import { CANONICAL_REQUESTS, PROBE_NAMESPACE, type CanonicalRequest } from '../../src/lib/audit-policy/canonical.ts';

/** The lesson's policy, restored from the seed (also in the lesson page). */
export const SEED_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Log all secret operations with the request body
  - level: Request
    resources:
      - group: ""
        resources: ["secrets"]
  # Log RBAC changes with full details
  - level: RequestResponse
    resources:
      - group: "rbac.authorization.k8s.io"
        resources: ["clusterroles", "clusterrolebindings", "roles", "rolebindings"]
  # Log pod exec, port-forward and attach
  - level: Request
    resources:
      - group: ""
        resources: ["pods/exec", "pods/portforward", "pods/attach"]
  # Log node and namespace operations
  - level: Metadata
    resources:
      - group: ""
        resources: ["nodes", "namespaces"]
  # Log everything else at Metadata level
  - level: Metadata
`;

const head = (omit = '["RequestReceived"]') => `apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ${omit}\nrules:\n`;
const NS = `/api/v1/namespaces/${PROBE_NAMESPACE}`;

/** Requests beyond the canonical table that the adversarial policies below tell apart. */
export const EXTRA_REQUESTS: readonly CanonicalRequest[] = [
  { id: 'admin-get-secret', describe: 'get secrets/db-credentials (admin)', as: 'admin', method: 'GET', path: `${NS}/secrets/db-credentials` },
  { id: 'get-other-secret', describe: 'get secrets/other', as: 'serviceAccount', method: 'GET', path: `${NS}/secrets/other` },
  { id: 'list-secrets-by-name', describe: 'list secrets with fieldSelector metadata.name=db-credentials', as: 'serviceAccount', method: 'GET', path: `${NS}/secrets?fieldSelector=metadata.name%3Ddb-credentials` },
  { id: 'deletecollection-secrets', describe: 'deletecollection secrets', as: 'serviceAccount', method: 'DELETE', path: `${NS}/secrets?dryRun=All` },
  { id: 'watch-by-path', describe: 'watch secrets via /watch/ (deprecated path)', as: 'serviceAccount', method: 'GET', path: `/api/v1/watch/namespaces/${PROBE_NAMESPACE}/secrets?timeoutSeconds=1` },
  { id: 'get-pod', describe: 'get pods/web-app', as: 'serviceAccount', method: 'GET', path: `${NS}/pods/web-app` },
  { id: 'pod-status', describe: 'get pods/web-app/status', as: 'serviceAccount', method: 'GET', path: `${NS}/pods/web-app/status` },
  { id: 'namespace-status', describe: 'get namespaces/production/status', as: 'serviceAccount', method: 'GET', path: `${NS}/status` },
  { id: 'namespace-finalize', describe: 'update namespaces/production/finalize', as: 'serviceAccount', method: 'PUT', path: `${NS}/finalize?dryRun=All`, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE_NAMESPACE } } },
  { id: 'custom-resource', describe: 'list widgets.example.com', as: 'serviceAccount', method: 'GET', path: `/apis/example.com/v1/namespaces/${PROBE_NAMESPACE}/widgets` },
  { id: 'healthz-etcd', describe: 'GET /healthz/etcd', as: 'serviceAccount', method: 'GET', path: '/healthz/etcd' },
  { id: 'api-root', describe: 'GET /api', as: 'serviceAccount', method: 'GET', path: '/api' },
  { id: 'admin-healthz', describe: 'GET /healthz (admin)', as: 'admin', method: 'GET', path: '/healthz' },
  { id: 'admin-list-pods', describe: 'list pods (admin)', as: 'admin', method: 'GET', path: `${NS}/pods` },
];

export const DIFFERENTIAL_REQUESTS: readonly CanonicalRequest[] = [...CANONICAL_REQUESTS, ...EXTRA_REQUESTS];

/** Policies the API server accepts; each is applied and every request above is compared. */
export const ACCEPTED_POLICIES: ReadonlyArray<{ name: string; text: string }> = [
  { name: 'the lesson policy', text: SEED_POLICY },
  { name: 'catch-all None first', text: `${head()}  - level: None\n  - level: RequestResponse\n` },
  {
    name: 'subresource wildcards and group "*"',
    text: `${head()}  - level: RequestResponse
    resources: [{ group: "", resources: ["*/exec"] }]
  - level: Request
    resources: [{ group: "", resources: ["pods/*"] }]
  - level: None
    namespaces: ["kube-system"]
    resources: [{ group: "*", resources: ["*"] }]
  - level: Metadata
    resources: [{ group: "*" }]
  - level: Request
`,
  },
  {
    name: 'resourceNames',
    text: `${head()}  - level: RequestResponse
    resources: [{ group: "", resources: ["secrets"], resourceNames: ["db-credentials"] }]
  - level: None
    resources: [{ group: "", resources: ["secrets"] }]
  - level: Metadata
`,
  },
  {
    name: 'namespaces "" versus named',
    text: `${head()}  - level: RequestResponse
    namespaces: [""]
  - level: Request
    namespaces: ["production"]
  - level: None
    namespaces: ["kube-system"]
  - level: Metadata
`,
  },
  {
    name: 'users and userGroups',
    text: `${head()}  - level: None
    users: ["system:serviceaccount:default:default"]
    verbs: ["get"]
  - level: RequestResponse
    userGroups: ["system:masters"]
  - level: Request
    userGroups: ["system:serviceaccounts:default"]
    resources: [{ group: "rbac.authorization.k8s.io" }]
  - level: Metadata
    userGroups: ["system:authenticated"]
    verbs: ["list", "create"]
`,
  },
  {
    name: 'omitStages per rule and global',
    text: `${head()}  - level: Metadata
    resources: [{ group: "", resources: ["secrets"] }]
    omitStages: ["ResponseComplete"]
  - level: Request
    resources: [{ group: "", resources: ["pods/exec", "pods/log"] }]
    omitStages: ["ResponseStarted"]
  - level: RequestResponse
    nonResourceURLs: ["/healthz*", "/version"]
    omitStages: ["ResponseComplete", "RequestReceived"]
  - level: Metadata
    verbs: ["list"]
    omitStages: []
  - level: Request
`,
  },
  {
    name: 'no global omitStages',
    text: `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    resources: [{ group: "", resources: ["secrets"] }]
    omitStages: ["ResponseStarted"]
  - level: Request
`,
  },
  {
    name: 'non-resource URLs',
    text: `${head()}  - level: None
    nonResourceURLs: ["/healthz*"]
  - level: RequestResponse
    nonResourceURLs: ["/version"]
  - level: Request
    nonResourceURLs: ["/api*"]
  - level: Metadata
    nonResourceURLs: ["*"]
`,
  },
  {
    name: 'verbs and subresources',
    text: `${head()}  - level: RequestResponse
    verbs: ["watch"]
  - level: Request
    verbs: ["deletecollection", "list"]
  - level: None
    verbs: ["get"]
    resources: [{ group: "", resources: ["pods/exec", "pods/portforward"] }]
  - level: Metadata
    resources: [{ group: "", resources: ["namespaces/finalize", "namespaces/status"] }]
  - level: Request
    resources: [{ group: "", resources: ["namespaces"] }]
  - level: Metadata
`,
  },
  {
    name: 'accepted with warnings: unknown and duplicate fields, literal stars, impossible resources, a timestamp',
    text: `${head()}  - level: RequestResponse
    users: [2001-12-14]
  - level: None
    level: RequestResponse
    Verbs: ["get"]
    resources: [{ group: "", resources: ["Secrets", "*/*", "pods/exec/extra", "pod"] }]
  - level: Request
    verbs: ["*"]
  - level: Metadata
    users: [~]
    namespaces: ["*"]
  - level: Request
    resources: [{ group: "", resources: ["configmaps"] }]
    spec: { ignored: true }
  - level: Metadata
`,
  },
];

/** Policies the API server refuses, with the path irlab's validator must name. */
export const REFUSED_POLICIES: ReadonlyArray<{ name: string; text: string; path: string }> = [
  { name: 'unknown stage', path: 'omitStages[0]', text: `${head('["NotAStage"]')}  - level: Metadata\n` },
  { name: 'unknown stage in a rule', path: 'rules[0].omitStages[0]', text: `${head()}  - level: Metadata\n    omitStages: ["requestreceived"]\n` },
  { name: 'unknown level', path: 'rules[0].level', text: `${head()}  - level: Verbose\n` },
  { name: 'level in lowercase', path: 'rules[0].level', text: `${head()}  - level: metadata\n` },
  { name: 'level missing', path: 'rules[0].level', text: `${head()}  - verbs: ["get"]\n` },
  { name: 'level with a capital field name only', path: 'rules[0].level', text: `${head()}  - Level: Metadata\n` },
  { name: 'non-resource URL without "/"', path: 'rules[0].nonResourceURLs[0]', text: `${head()}  - level: None\n    nonResourceURLs: ["healthz"]\n` },
  { name: 'wildcard inside a URL', path: 'rules[0].nonResourceURLs[0]', text: `${head()}  - level: None\n    nonResourceURLs: ["/api/*/foo"]\n` },
  { name: 'group with a version', path: 'rules[0].resources[0].group', text: `${head()}  - level: Metadata\n    resources: [{ group: "apps/v1", resources: ["deployments"] }]\n` },
  { name: 'group in capitals', path: 'rules[0].resources[0].group', text: `${head()}  - level: Metadata\n    resources: [{ group: "RBAC.authorization.k8s.io" }]\n` },
  { name: 'resourceNames without resources', path: 'rules[0].resources[0].resourceNames', text: `${head()}  - level: Metadata\n    resources: [{ group: "", resourceNames: ["db-credentials"] }]\n` },
  { name: 'non-resource URLs with resources', path: 'rules[0].nonResourceURLs', text: `${head()}  - level: Metadata\n    resources: [{ group: "" }]\n    nonResourceURLs: ["/healthz"]\n` },
  { name: 'non-resource URLs with namespaces', path: 'rules[0].nonResourceURLs', text: `${head()}  - level: Metadata\n    namespaces: ["production"]\n    nonResourceURLs: ["/healthz"]\n` },
  { name: 'no rules', path: 'rules', text: `${head()}  []\n`.replace('rules:\n  []', 'rules: []') },
  { name: 'no rules field', path: 'rules', text: 'apiVersion: audit.k8s.io/v1\nkind: Policy\n' },
  { name: 'removed apiVersion v1beta1', path: 'apiVersion', text: `apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n  - level: Metadata\n` },
  { name: 'no apiVersion', path: 'apiVersion', text: `kind: Policy\nrules:\n  - level: Metadata\n` },
  { name: 'wrong kind', path: 'kind', text: `apiVersion: audit.k8s.io/v1\nkind: Event\nrules:\n  - level: Metadata\n` },
  { name: 'a number where a string belongs', path: 'rules[0].namespaces[0]', text: `${head()}  - level: Metadata\n    namespaces: [2024]\n` },
  { name: 'a string where a list belongs', path: 'rules[0].resources', text: `${head()}  - level: Metadata\n    resources: "secrets"\n` },
  { name: 'a YAML 1.1 boolean as a user name', path: 'rules[0].users[0]', text: `${head()}  - level: Metadata\n    users: [yes]\n` },
  { name: 'a quoted boolean', path: 'omitManagedFields', text: `${head().replace('omitStages', 'omitManagedFields: "true"\nomitStages')}  - level: Metadata\n` },
  { name: 'not YAML', path: '', text: `${head()}  - level: [Metadata\n` },
];

