/**
 * A rules review of one identity: the API server's own rules (SelfSubjectRulesReview as the
 * identity) checked for every right that lets a stolen identity keep or widen its hold on the cluster. Rights
 * inside the identity's own namespace that its workload plausibly needs are not asked about.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { callApi } from '../scenarios/kube-request.ts';
import { admin } from '../scenarios/world.ts';

export interface Probe {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** '' asks for the right in every namespace at once (a cluster-wide grant). */
  namespace: string;
  /** In words, for feedback: "read secrets cluster-wide". */
  says: string;
}

const RBAC = 'rbac.authorization.k8s.io';

/** Every dangerous right, for an identity whose own namespace is `home` (undefined for users). */
export function dangerousProbes(namespaces: string[], home: string | undefined): Probe[] {
  const probes: Probe[] = [
    { verb: '*', resource: '*', group: '*', namespace: '', says: 'do anything (cluster-admin)' },
    { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: '', says: 'mint tokens for service accounts (create serviceaccounts/token)' },
    ...['bind', 'escalate'].flatMap((verb) => ['clusterroles', 'roles'].map((resource) => ({ verb, resource, group: RBAC, namespace: '', says: `${verb} ${resource}` }))),
    ...['users', 'groups', 'serviceaccounts', 'uids'].map((resource) => ({ verb: 'impersonate', resource, namespace: '', says: `impersonate ${resource}` })),
    { verb: 'impersonate', resource: 'userextras', group: 'authentication.k8s.io', namespace: '', says: 'impersonate user extras' },
    ...['create', 'update', 'patch'].flatMap((verb) => ['clusterrolebindings', 'clusterroles'].map((resource) => ({ verb, resource, group: RBAC, namespace: '', says: `${verb} ${resource}` }))),
    { verb: 'create', resource: 'pods', subresource: 'exec', namespace: '', says: 'exec into pods cluster-wide' },
    { verb: 'get', resource: 'nodes', subresource: 'proxy', namespace: '', says: 'reach kubelets through nodes/proxy' },
    ...[['pods', ''], ['deployments', 'apps'], ['daemonsets', 'apps'], ['jobs', 'batch'], ['cronjobs', 'batch']].map(([resource, group]) => ({
      verb: 'create', resource: resource!, group: group!, namespace: 'kube-system', says: `create ${resource} in kube-system`,
    })),
    { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'kube-system', says: 'exec into pods in kube-system' },
  ];
  for (const namespace of namespaces) {
    probes.push({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace, says: 'mint tokens for service accounts (create serviceaccounts/token)' });
    if (namespace === home) continue;
    for (const verb of ['get', 'list', 'watch']) probes.push({ verb, resource: 'secrets', namespace, says: `${verb} secrets outside its own namespace` });
  }
  return probes;
}

export function groupsOf(username: string): string[] {
  const account = /^system:serviceaccount:([^:]+):/.exec(username);
  return account ? ['system:serviceaccounts', `system:serviceaccounts:${account[1]}`, 'system:authenticated'] : ['system:authenticated'];
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** Does one of these rules grant the probe? A rule limited to resourceNames counts: binding
 * cluster-admin by name is as dangerous as binding any role. */
export function grants(rules: ResourceRule[], probe: Probe): boolean {
  const group = probe.group ?? '';
  const wanted = probe.subresource ? `${probe.resource}/${probe.subresource}` : probe.resource;
  return rules.some((rule) =>
    (rule.verbs.includes('*') || rule.verbs.includes(probe.verb)) &&
    (rule.apiGroups ?? []).some((g) => g === '*' || g === group) &&
    (rule.resources ?? []).some((r) => r === '*' || r === wanted || (probe.subresource ? r === `*/${probe.subresource}` || r === `${probe.resource}/*` : false)));
}

/**
 * What `username` may still do of the dangerous rights, in words (deduplicated). The API server
 * lists the identity's rules per namespace (SelfSubjectRulesReview, asked as the identity by
 * impersonation, so every binding, group and aggregated role counts): one request per namespace
 * instead of one per probe. A probe for every namespace ('') is matched against the rules of all.
 */
export async function reviewRights(kubeConfig: KubeConfig, username: string, namespaces: string[]): Promise<string[]> {
  const home = /^system:serviceaccount:([^:]+):/.exec(username)?.[1];
  const rulesOf = new Map(await Promise.all(namespaces.map(async (namespace) => {
    const response = await callApi(admin(kubeConfig), {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      // Node sends an array as one header line per value: the API server reads each group.
      headers: { 'Impersonate-User': username, 'Impersonate-Group': groupsOf(username) as unknown as string },
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } },
    });
    if (response.status >= 300) throw new Error(`SelfSubjectRulesReview failed with HTTP ${response.status}`);
    return [namespace, (response.body as { status?: { resourceRules?: ResourceRule[] } } | undefined)?.status?.resourceRules ?? []] as const;
  })));
  const all = [...rulesOf.values()].flat();
  return [...new Set(dangerousProbes(namespaces, home).filter((probe) => grants(probe.namespace ? rulesOf.get(probe.namespace) ?? [] : all, probe)).map((p) => p.says))];
}
