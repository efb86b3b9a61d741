/**
 * The scope of a seeded incident, noted right after the attack for the graders: which
 * identities the attacker acted as, the credentials they stole (with the tokens themselves, so a
 * check can ask TokenReview whether each still authenticates), what each identity could read,
 * and a hash of every value every Secret held, so rotation is judged by values that changed,
 * not by objects that were touched. Stored in the answer key (data dir, mode 0600) only.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { callApi, resourcePath } from './kube-request.ts';
import { admin } from './world.ts';

export interface SeededSecret {
  namespace: string;
  name: string;
  type: string;
  /** The data keys, so a consumer's `secretKeyRef` can be checked against what it expects. */
  keys: string[];
  /** SHA-256 of each value by key: a seeded value still present under any key is not rotated. */
  values: Record<string, string>;
}

export interface ScopeKey {
  /** Usernames the attacker acted as (each a service account in this scenario). */
  identities: string[];
  /** Bound tokens the attacker took from a pod: dead once the pod (or its account) is gone. */
  boundTokens: Array<{ username: string; pod: { namespace: string; name: string; uid: string }; token: string }>;
  /** Every Secret each compromised identity could read (get, or list/watch of its namespace), `namespace/name`. */
  reach: Record<string, string[]>;
  /** Every Secret in the cluster when the attack ended. */
  secrets: SeededSecret[];
  /** Every object the attacker's requests created (persistence to remove). */
  created: Array<{ apiVersion: string; kind: string; namespace?: string; name: string }>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Hashes of a Secret's decoded values by key, as stored (base64 `data`). */
export function valueHashesOf(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, sha256(Buffer.from(value, 'base64').toString('utf8'))]));
}

function groupsOf(username: string): string[] {
  const account = /^system:serviceaccount:([^:]+):/.exec(username);
  return account ? ['system:serviceaccounts', `system:serviceaccounts:${account[1]}`, 'system:authenticated'] : ['system:authenticated'];
}

async function allowed(kubeConfig: KubeConfig, username: string, attributes: Record<string, string>): Promise<boolean> {
  const review = await callApi(admin(kubeConfig), {
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: username, groups: groupsOf(username), resourceAttributes: attributes } },
  });
  return (review.body as { status?: { allowed?: boolean } } | undefined)?.status?.allowed === true;
}

type SecretObject = { metadata: { name: string; namespace: string }; type?: string; data?: Record<string, string> };

/** Notes the scope as RBAC answers now: called once the timeline has run. */
export async function noteScope(
  kubeConfig: KubeConfig,
  input: Pick<ScopeKey, 'identities' | 'boundTokens' | 'created'>,
): Promise<ScopeKey> {
  const response = await callApi(admin(kubeConfig), { method: 'GET', path: resourcePath('v1', 'Secret') });
  const items = ((response.body as { items?: SecretObject[] } | undefined)?.items ?? []).toSorted((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const namespaces = [...new Set(items.map((s) => s.metadata.namespace))];
  const reach: Record<string, string[]> = {};
  for (const username of input.identities) {
    // A list (or watch) returns every Secret of the namespace with its values: a read of all of them.
    const readsAll = new Set<string>();
    for (const namespace of namespaces) {
      const [list, watch] = await Promise.all(['list', 'watch'].map((verb) => allowed(kubeConfig, username, { verb, resource: 'secrets', namespace })));
      if (list || watch) readsAll.add(namespace);
    }
    const readable: string[] = [];
    for (const secret of items) {
      const { namespace, name } = secret.metadata;
      if (readsAll.has(namespace) || (await allowed(kubeConfig, username, { verb: 'get', resource: 'secrets', namespace, name }))) readable.push(`${namespace}/${name}`);
    }
    reach[username] = readable;
  }
  return {
    identities: input.identities,
    boundTokens: input.boundTokens,
    created: input.created,
    reach,
    secrets: items.map((s) => ({
      namespace: s.metadata.namespace,
      name: s.metadata.name,
      type: s.type ?? 'Opaque',
      keys: Object.keys(s.data ?? {}).sort(),
      values: valueHashesOf(s.data),
    })),
  };
}
