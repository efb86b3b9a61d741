/**
 * Eradicate: what the attacker touched is rotated, what they gained is revoked, what they left
 * is gone, the workload runs the known-good image again, and egress is limited.
 */
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { secretFingerprint } from '../../scenarios/world.ts';
import type { Check } from '../check.ts';
import { isolationOf, selects, type NetworkPolicy } from '../network-policy.ts';

const notFound = (error: { code?: number }) => {
  if (error.code === 404) return undefined;
  throw error;
};

export interface EradicationFacts {
  secrets: Map<string, { uid: string; sha256: string } | undefined>;
  /** Requests the compromised service account may still make, as `verb resource namespace`. */
  stillAllowed: string[];
  bindingsLeft: string[];
  podsLeft: string[];
  workload?: { name: string; images: string[]; podImages: string[]; podLabels: Record<string, string> };
  policies: NetworkPolicy[];
}

export function judgeEradication(facts: EradicationFacts, key: AnswerKey): CriterionResult[] {
  const unrotated = key.reachableSecrets.filter((s) => {
    const now = facts.secrets.get(`${s.namespace}/${s.name}`);
    return now !== undefined && now.uid === s.uid && now.sha256 === s.sha256;
  });
  const image = key.compromisedPod.knownGoodImage;
  const workload = facts.workload;
  const clean = Boolean(workload && workload.images.every((i) => i === image) && workload.podImages.length > 0 && workload.podImages.every((i) => i === image));
  const egress = workload ? isolationOf({ labels: workload.podLabels }, facts.policies) : undefined;
  const egressOpen = !egress || !egress.egressIsolated || egress.allowed.some((a) => a.startsWith('egress to anything on every port'));
  return [
    {
      id: 'secrets-rotated',
      passed: unrotated.length === 0,
      message: unrotated.length === 0 ? `all ${key.reachableSecrets.length} secrets the service account could read were rotated or removed` : `${unrotated.length} of the ${key.reachableSecrets.length} secrets the service account could read are unchanged, e.g. ${unrotated[0]!.namespace}/${unrotated[0]!.name}`,
    },
    {
      id: 'sa-revoked',
      passed: facts.stillAllowed.length === 0,
      message: facts.stillAllowed.length === 0 ? 'the service account can no longer read secrets or create pods (SubjectAccessReview says no)' : `the service account may still ${facts.stillAllowed.join(', ')}: remove its bindings`,
    },
    {
      id: 'binding-removed',
      passed: facts.bindingsLeft.length === 0,
      message: facts.bindingsLeft.length === 0 ? 'the attacker\'s ClusterRoleBinding is gone' : `the attacker's binding ${facts.bindingsLeft.join(', ')} is still there`,
    },
    {
      id: 'escape-pod-removed',
      passed: facts.podsLeft.length === 0,
      message: facts.podsLeft.length === 0 ? 'the pod the attacker planted in kube-system is gone' : `the attacker's pod ${facts.podsLeft.join(', ')} still runs`,
    },
    {
      id: 'known-good-image',
      passed: clean,
      message: clean ? `the workload runs ${image} again` : workload ? `the workload ${workload.name} runs ${[...new Set([...workload.images, ...workload.podImages])].join(', ')}; redeploy it from ${image}` : 'the workload is gone; recreate it from the known-good image',
    },
    {
      id: 'egress-limited',
      passed: !egressOpen,
      message: !egressOpen ? 'a NetworkPolicy limits the workload\'s egress' : 'the workload\'s egress is unrestricted: add a NetworkPolicy with Egress that allows only what it needs',
    },
  ];
}

export const eradicationCheck: Check = {
  name: 'eradication',
  description: 'Secrets rotated, the service account revoked, the attacker\'s binding and pod removed, the workload back on the known-good image, egress limited.',
  criteria: ['secrets-rotated', 'sa-revoked', 'binding-removed', 'escape-pod-removed', 'known-good-image', 'egress-limited'],
  async run({ kubeConfig, answerKey: key }) {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const authz = kubeConfig.makeApiClient(AuthorizationV1Api);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const pod = key.compromisedPod;

    const user = `system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`;
    const groups = ['system:serviceaccounts', `system:serviceaccounts:${pod.namespace}`, 'system:authenticated'];
    const probes = [
      { verb: 'list', resource: 'secrets', namespace: '' },
      ...[...new Set(key.reachableSecrets.map((s) => s.namespace))].map((namespace) => ({ verb: 'get', resource: 'secrets', namespace })),
      { verb: 'create', resource: 'pods', namespace: 'kube-system' },
      { verb: 'create', resource: 'clusterrolebindings', namespace: '', group: 'rbac.authorization.k8s.io' },
    ];
    const workloadLabels = Object.fromEntries(Object.entries(pod.labels).filter(([k]) => k !== 'pod-template-hash' && k !== 'quarantine'));

    // The reads are independent: issued together, the check costs a few round trips, not twenty.
    const [secretList, allowed, bindings, pods, deployments, policyList] = await Promise.all([
      // One list for every secret: each request is a TLS handshake (client-node makes a new agent per request).
      core.listSecretForAllNamespaces(),
      Promise.all(
        probes.map((probe) =>
          authz.createSubjectAccessReview({
            body: { spec: { user, groups, resourceAttributes: { verb: probe.verb, resource: probe.resource, namespace: probe.namespace, group: probe.group ?? '' } } },
          }),
        ),
      ),
      Promise.all(key.bindingsCreated.map((b) => rbac.readClusterRoleBinding({ name: b.name }).catch(notFound))),
      Promise.all(key.podsCreated.map((p) => core.readNamespacedPod({ name: p.name, namespace: p.namespace }).catch(notFound))),
      apps.listNamespacedDeployment({ namespace: pod.namespace }),
      networking.listNamespacedNetworkPolicy({ namespace: pod.namespace }),
    ]);

    const secrets = new Map<string, { uid: string; sha256: string } | undefined>();
    const byRef = new Map(secretList.items.map((item) => [`${item.metadata?.namespace}/${item.metadata?.name}`, item]));
    key.reachableSecrets.forEach((s) => {
      const now = byRef.get(`${s.namespace}/${s.name}`);
      secrets.set(`${s.namespace}/${s.name}`, now ? { uid: now.metadata?.uid ?? '', sha256: secretFingerprint(now.data) } : undefined);
    });
    const stillAllowed = probes
      .filter((_, i) => allowed[i]!.status?.allowed)
      .map((probe) => `${probe.verb} ${probe.resource}${probe.namespace ? ` in ${probe.namespace}` : ' cluster-wide'}`);
    const bindingsLeft = key.bindingsCreated.filter((_, i) => bindings[i]).map((b) => b.name);
    const podsLeft = key.podsCreated.filter((_, i) => pods[i]).map((p) => `${p.namespace}/${p.name}`);

    const deployment = deployments.items.find((d) => selects(d.spec?.selector as never, workloadLabels));
    let workload: EradicationFacts['workload'];
    if (deployment) {
      const selector = deployment.spec?.selector?.matchLabels ?? {};
      const workloadPods = (await core.listNamespacedPod({ namespace: pod.namespace, labelSelector: Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') })).items.filter((p) => !p.metadata?.deletionTimestamp);
      workload = {
        name: deployment.metadata?.name ?? '',
        images: (deployment.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
        podImages: workloadPods.flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image ?? '')),
        podLabels: deployment.spec?.template.metadata?.labels ?? workloadLabels,
      };
    }
    const policies = policyList.items as unknown as NetworkPolicy[];
    return resultOf(judgeEradication({ secrets, stillAllowed, bindingsLeft, podsLeft, ...(workload ? { workload } : {}), policies }, key));
  },
};
