/**
 * What the eradication check reads from the cluster: TokenReviews of the stolen tokens, the
 * secrets and their consumers, a rules review of every compromised identity, the attacker's
 * objects, the workload's images and pods, and the NetworkPolicies that decide its egress.
 */
import { AppsV1Api, AuthenticationV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig, type V1PodSpec } from '@kubernetes/client-node';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { callApi, resourcePath } from '../../scenarios/kube-request.ts';
import { sha256, valueHashesOf, type SeededSecret } from '../../scenarios/scope-key.ts';
import { admin } from '../../scenarios/world.ts';
import { egressAllows, type Destination } from '../egress.ts';
import { selects, type NetworkPolicy } from '../network-policy.ts';
import { reviewRights } from '../rights-review.ts';
import { reviewToken, type SecretState } from './token-revocation.ts';

/** What the eradication check judges, gathered from the cluster (judgeEradication in eradication.ts). */
export interface EradicationFacts {
  /** TokenReview's verdict on each stolen legacy token, and on each stolen pod-bound token. */
  legacyTokensLive: boolean[];
  boundTokensLive: boolean[];
  /** Secrets in scope: still holding a seeded value, or removed (a non-token Secret). */
  secretsUnrotated: number;
  secretsRemoved: number;
  /** Workload references to a Secret or key that no longer exists, in words. */
  brokenConsumers: string[];
  /** Dangerous rights some compromised identity still has, in words (no identity named). */
  rightsLeft: string[];
  /** Objects the attacker created that still exist, by kind of place. */
  rbacLeft: number;
  workloadsLeft: number;
  workload?: { name: string; images: string[]; podImages: string[] };
  /** Non-terminating pods anywhere still running a compromised image. */
  compromisedPodsLeft: number;
  /** Egress: what the workload needs and cannot reach, and what it reaches without need, in words. */
  needsBlocked: string[];
  reachesUnneeded: string[];
}

const RBAC_KINDS = new Set(['ClusterRoleBinding', 'RoleBinding', 'ClusterRole', 'Role']);

/** Destination the workload needs, from the scenario: its database (and DNS, always). */
const DNS = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, port: 53, protocol: 'UDP' as const, says: 'DNS (kube-dns in kube-system, UDP 53)' };

/** Secret references of a pod template that the pod cannot start without. */
function secretRefs(spec: V1PodSpec | undefined): Array<{ secret: string; key?: string }> {
  if (!spec) return [];
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return [
    ...containers.flatMap((c) => (c.env ?? []).flatMap((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      return ref?.name && !ref.optional ? [{ secret: ref.name, key: ref.key }] : [];
    })),
    ...containers.flatMap((c) => (c.envFrom ?? []).flatMap((e) => (e.secretRef?.name && !e.secretRef.optional ? [{ secret: e.secretRef.name }] : []))),
    ...(spec.volumes ?? []).flatMap((v) => v.secret?.secretName && !v.secret.optional
      ? (v.secret.items?.length ? v.secret.items.map((i) => ({ secret: v.secret!.secretName!, key: i.key })) : [{ secret: v.secret.secretName }])
      : []),
  ];
}

/** The pod and service-account uids a bound token names (its JWT claims; never verified here). */
function tokenClaims(token: string): { pod?: string; account?: string } {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { 'kubernetes.io'?: { pod?: { uid?: string }; serviceaccount?: { uid?: string } } };
    const k8s = claims['kubernetes.io'];
    return { ...(k8s?.pod?.uid ? { pod: k8s.pod.uid } : {}), ...(k8s?.serviceaccount?.uid ? { account: k8s.serviceaccount.uid } : {}) };
  } catch {
    return {};
  }
}

/** `kubeConfig`'s requests are cancelled with the check (AbortableKubeConfig); `signal` stops the waits between them. */
/**
 * How many in-scope secrets still hold a value of the attack's time, and how many ordinary ones
 * were deleted (which changes no credential). A token Secret is revoked, not rotated: the Secret
 * gone, or the key that authenticates changed (a service account token's ca.crt and namespace, a
 * bootstrap token's id and usages are no credentials). kube-controller-manager's tokencleaner
 * deletes a bootstrap token whose expiration no longer parses, so rotating all its keys ends in
 * deletion, which revokes it.
 */
export function rotationOf(seeded: SeededSecret[], dataNow: (ref: string) => Record<string, string> | undefined): { secretsUnrotated: number; secretsRemoved: number } {
  let secretsUnrotated = 0;
  let secretsRemoved = 0;
  for (const secret of seeded) {
    const now = dataNow(`${secret.namespace}/${secret.name}`);
    const credentialKey = TOKEN_SECRET_KEYS[secret.type];
    const token = credentialKey !== undefined;
    const old = new Set(Object.entries(secret.values).filter(([k, hash]) => (!token || k === credentialKey) && hash !== sha256('')).map(([, hash]) => hash));
    if (!now) {
      if (!token) secretsRemoved += 1;
      continue;
    }
    if (Object.values(valueHashesOf(now)).some((hash) => old.has(hash))) secretsUnrotated += 1;
  }
  return { secretsUnrotated, secretsRemoved };
}

/** Secret types that hold a token, and the key a token authenticates with. */
const TOKEN_SECRET_KEYS: Record<string, string> = { 'kubernetes.io/service-account-token': 'token', 'bootstrap.kubernetes.io/token': 'token-secret' };

export async function gatherEradicationFacts(kubeConfig: KubeConfig, key: AnswerKey, signal?: AbortSignal): Promise<EradicationFacts> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const authn = kubeConfig.makeApiClient(AuthenticationV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const scope = key.scope;
  if (!scope) throw new Error('this incident was seeded before scope facts were recorded: reset the lab for a fresh incident');
  const home = key.compromisedPod.namespace;

  const [secretList, namespaceList, podList, deployments, daemonSets, statefulSets, cronJobs, policyList] = await Promise.all([
    core.listSecretForAllNamespaces(),
    core.listNamespace(),
    core.listPodForAllNamespaces(),
    apps.listDeploymentForAllNamespaces(),
    apps.listDaemonSetForAllNamespaces(),
    apps.listStatefulSetForAllNamespaces(),
    batch.listCronJobForAllNamespaces(),
    networking.listNetworkPolicyForAllNamespaces(),
  ]);
  const secrets = new Map(secretList.items.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]));
  const namespaces = namespaceList.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
  const pods = podList.items.filter((p) => !p.metadata?.deletionTimestamp);

  // (a) legacy tokens: TokenReview, waiting out the API server's token cache once the Secret no longer holds the token.
  const review = (token: string) => async () => {
    const reviewed = await authn.createTokenReview({ body: { spec: { token } } });
    return { authenticated: reviewed.status?.authenticated === true };
  };
  const legacyTokensLive = await Promise.all((key.tokenCredentials ?? []).map(async (credential) => {
    const held = secrets.get(credential.secret)?.data?.token;
    const state: SecretState = held && sha256(Buffer.from(held, 'base64').toString('utf8')) === sha256(credential.token) ? 'holds-token' : 'gone';
    return (await reviewToken(review(credential.token), state, signal ? { signal } : {})).authenticated;
  }));
  // (b) pod-bound tokens: dead once their pod (or service account) is gone; the cache is waited out then too.
  const boundTokensLive = await Promise.all(scope.boundTokens.map(async (bound) => {
    const claims = tokenClaims(bound.token);
    const podAlive = pods.some((p) => p.metadata?.uid === (claims.pod ?? bound.pod.uid));
    const [, namespace = '', name = ''] = /^system:serviceaccount:([^:]+):(.+)$/.exec(bound.username) ?? [];
    const account = await core.readNamespacedServiceAccount({ namespace, name }).catch(() => undefined);
    const accountAlive = !claims.account || account?.metadata?.uid === claims.account;
    return (await reviewToken(review(bound.token), podAlive && accountAlive ? 'holds-token' : 'gone', signal ? { signal } : {})).authenticated;
  }));

  // (c) rotation: no value of the attack's time is left in any secret the compromised identities could read.
  const { secretsUnrotated, secretsRemoved } = rotationOf(scope.secrets.filter((seeded) => new Set(Object.values(scope.reach).flat()).has(`${seeded.namespace}/${seeded.name}`)), (ref) => secrets.get(ref)?.data);
  const brokenConsumers: string[] = [];
  const workloads = [
    ...deployments.items.map((d) => ({ kind: 'deployment', o: d, spec: d.spec?.template.spec })),
    ...daemonSets.items.map((d) => ({ kind: 'daemonset', o: d, spec: d.spec?.template.spec })),
    ...statefulSets.items.map((d) => ({ kind: 'statefulset', o: d, spec: d.spec?.template.spec })),
    ...cronJobs.items.map((d) => ({ kind: 'cronjob', o: d, spec: d.spec?.jobTemplate.spec?.template.spec })),
  ];
  for (const { kind, o, spec } of workloads) {
    const namespace = o.metadata?.namespace ?? '';
    for (const ref of secretRefs(spec)) {
      const secret = secrets.get(`${namespace}/${ref.secret}`);
      const where = `${kind} ${namespace}/${o.metadata?.name} needs ${ref.key ? `key ${ref.key} of ` : ''}secret ${ref.secret}`;
      if (!secret) brokenConsumers.push(where);
      else if (ref.key && !Object.hasOwn({ ...secret.data, ...secret.stringData }, ref.key)) brokenConsumers.push(where);
    }
  }

  // (d) a rules review of every compromised identity.
  const rightsLeft = [...new Set((await Promise.all(scope.identities.map((u) => reviewRights(kubeConfig, u, namespaces)))).flat())];

  // (e) what the attacker created.
  const exists = async (o: NonNullable<AnswerKey['scope']>['created'][number]) => {
    const response = await callApi(admin(kubeConfig), { method: 'GET', path: resourcePath(o.apiVersion, o.kind, o.namespace, o.name) });
    if (response.status === 404) return false;
    if (response.status >= 300) throw new Error(`could not read a ${o.kind}: HTTP ${response.status}`);
    return !(response.body as { metadata?: { deletionTimestamp?: string } } | undefined)?.metadata?.deletionTimestamp;
  };
  const left = await Promise.all(scope.created.map(async (o) => ({ o, alive: await exists(o) })));
  const rbacLeft = left.filter((l) => l.alive && RBAC_KINDS.has(l.o.kind)).length;
  const workloadsLeft = left.filter((l) => l.alive && !RBAC_KINDS.has(l.o.kind)).length;

  // (f) the workload: the Deployment whose selector matches the compromised pod's labels.
  const podLabels = Object.fromEntries(Object.entries(key.compromisedPod.labels).filter(([k]) => k !== 'pod-template-hash' && k !== 'quarantine'));
  const deployment = deployments.items.find((d) => d.metadata?.namespace === home && selects(d.spec?.selector as never, podLabels));
  let workload: EradicationFacts['workload'];
  let workloadLabels = podLabels;
  if (deployment) {
    workloadLabels = deployment.spec?.template.metadata?.labels ?? podLabels;
    const selected = pods.filter((p) => p.metadata?.namespace === home && selects(deployment.spec?.selector as never, p.metadata?.labels ?? {}));
    workload = {
      name: deployment.metadata?.name ?? '',
      images: (deployment.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
      podImages: selected.flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image ?? '')),
    };
  }
  const compromisedImages = new Set(key.compromisedPod.images);
  const compromisedPodsLeft = pods.filter((p) => (p.spec?.containers ?? []).some((c) => compromisedImages.has(c.image ?? ''))).length;

  // (g) egress, judged against what the workload needs and what it must not reach.
  const policies = policyList.items as unknown as NetworkPolicy[];
  const namespaceLabels = new Map(namespaceList.items.map((n) => [n.metadata?.name ?? '', { ...n.metadata?.labels, 'kubernetes.io/metadata.name': n.metadata?.name ?? '' }]));
  const asDestination = (namespace: string, labels: Record<string, string>, ip: string): Destination => ({ ip, pod: { namespace, namespaceLabels: namespaceLabels.get(namespace) ?? { 'kubernetes.io/metadata.name': namespace }, labels } });
  const source = { namespace: home, labels: workloadLabels };
  const allows = (d: Destination, port: number, protocol: 'TCP' | 'UDP') => egressAllows(source, policies, d, port, protocol);
  const needs = [...(key.compromisedPod.egressNeeds ?? []).map((n) => ({ ...n, says: `its database (${n.namespace}, ${n.protocol} ${n.port})` })), DNS];
  const ipOf = (namespace: string, labels: Record<string, string>) =>
    pods.find((p) => p.metadata?.namespace === namespace && Object.entries(labels).every(([k, v]) => p.metadata?.labels?.[k] === v))?.status?.podIP ?? '10.244.255.1';
  const needsBlocked = needs
    .filter((n) => !allows(asDestination(n.namespace, n.labels, ipOf(n.namespace, n.labels)), n.port, n.protocol))
    .map((n) => n.says);
  const reachesUnneeded: string[] = [];
  const outside = ['8.8.8.8', ...key.attacker.sourceIPs.filter((ip) => !pods.some((p) => p.status?.podIP === ip))];
  if (outside.some((ip) => [443, 80, 5432, 8443].some((port) => allows({ ip }, port, 'TCP')))) reachesUnneeded.push('addresses outside the cluster (0.0.0.0/0)');
  // The need is "its database's namespace on its port": a rule to the whole namespace on that port is accepted.
  const needed = (namespace: string, port: number, protocol: string) => needs.some((n) => n.namespace === namespace && n.port === port && n.protocol === protocol);
  const others = [
    ...pods.filter((p) => p.metadata?.namespace !== home).map((p) => ({ namespace: p.metadata?.namespace ?? '', labels: p.metadata?.labels ?? {}, ip: p.status?.podIP ?? '10.244.255.2' })),
    // A pod that does not exist yet, in every other namespace: a namespace-wide allowance shows here too.
    ...namespaces.filter((n) => n !== home).map((namespace) => ({ namespace, labels: { 'irlab.dev/probe': 'any' }, ip: '10.244.255.3' })),
  ];
  // UDP 53 is left out: DNS allowed to any address is common practice (docs/grading.md has the trade-off).
  const ports: Array<[number, 'TCP' | 'UDP']> = [[443, 'TCP'], [8080, 'TCP'], [5432, 'TCP']];
  if (others.some((o) => ports.some(([port, protocol]) => !needed(o.namespace, port, protocol) && allows(asDestination(o.namespace, o.labels, o.ip), port, protocol)))) {
    reachesUnneeded.push('pods in other namespaces beyond its database and DNS');
  }

  return {
    legacyTokensLive, boundTokensLive, secretsUnrotated, secretsRemoved, brokenConsumers, rightsLeft, rbacLeft, workloadsLeft,
    ...(workload ? { workload } : {}), compromisedPodsLeft, needsBlocked, reachesUnneeded,
  };
}
