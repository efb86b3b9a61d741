/**
 * A rules review of one identity: the API server's own authorizer (SubjectAccessReview) asked
 * about every right that lets a stolen identity keep or widen its hold on the cluster. Rights
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
    ...['get', 'list', 'watch'].map((verb) => ({ verb, resource: 'secrets', namespace: '', says: `${verb} secrets cluster-wide` })),
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

/** What `username` may still do of the dangerous rights, as the probes' words (deduplicated). */
export async function reviewRights(kubeConfig: KubeConfig, username: string, namespaces: string[]): Promise<string[]> {
  const home = /^system:serviceaccount:([^:]+):/.exec(username)?.[1];
  const probes = dangerousProbes(namespaces, home);
  const allowed: string[] = [];
  // In batches: each review is one request; a hundred at once would queue on the API server anyway.
  for (let i = 0; i < probes.length; i += 16) {
    const batch = probes.slice(i, i + 16);
    const verdicts = await Promise.all(batch.map(async (probe) => {
      const response = await callApi(admin(kubeConfig), {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: username,
            groups: groupsOf(username),
            resourceAttributes: { verb: probe.verb, resource: probe.resource, group: probe.group ?? '', namespace: probe.namespace, ...(probe.subresource ? { subresource: probe.subresource } : {}) },
          },
        },
      });
      if (response.status >= 300) throw new Error(`SubjectAccessReview failed with HTTP ${response.status}`);
      return (response.body as { status?: { allowed?: boolean } } | undefined)?.status?.allowed === true;
    }));
    batch.forEach((probe, j) => verdicts[j] && allowed.push(probe.says));
  }
  return [...new Set(allowed)];
}
