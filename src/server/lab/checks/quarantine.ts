/**
 * Contain: the compromised pod carries quarantine=true, still exists (contained, not deleted),
 * and the NetworkPolicies of its namespace cut it off in both directions.
 */
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { Check } from '../check.ts';
import { isolationOf, type NetworkPolicy } from '../network-policy.ts';

export interface QuarantineFacts {
  pod?: { name: string; labels: Record<string, string> };
  policies: NetworkPolicy[];
}

export function judgeQuarantine(facts: QuarantineFacts, podName: string, namespace: string): CriterionResult[] {
  if (!facts.pod) {
    const message = `pod ${namespace}/${podName} is gone: containment keeps the pod for evidence; isolate it instead of deleting it`;
    return [
      { id: 'pod-kept', passed: false, message },
      { id: 'labelled', passed: false, message: 'the pod no longer exists, so it cannot be labelled' },
      { id: 'isolated', passed: false, message: 'the pod no longer exists' },
    ];
  }
  const label = facts.pod.labels.quarantine;
  const isolation = isolationOf(facts.pod, facts.policies);
  const explain = () => {
    const parts: string[] = [];
    if (isolation.selecting.length === 0) {
      parts.push('no NetworkPolicy in the namespace selects the pod');
      for (const other of isolation.notSelecting) parts.push(`"${other.name}" does not apply: ${other.why}`);
    } else {
      parts.push(`selected by ${isolation.selecting.map((n) => `"${n}"`).join(', ')}, but it still allows ${isolation.allowed.join('; ')}`);
    }
    return parts.join('. ');
  };
  return [
    { id: 'pod-kept', passed: true, message: `pod ${namespace}/${podName} still exists for the investigation` },
    {
      id: 'labelled',
      passed: label === 'true',
      message: label === 'true' ? 'the pod is labelled quarantine=true' : `the pod has ${label === undefined ? 'no quarantine label' : `quarantine=${label}`}; label it quarantine=true`,
    },
    {
      id: 'isolated',
      passed: isolation.allowed.length === 0,
      message: isolation.allowed.length === 0
        ? `no traffic in or out: ${isolation.selecting.map((n) => `"${n}"`).join(', ')} isolate${isolation.selecting.length === 1 ? 's' : ''} ingress and egress with no rule that admits anything`
        : `the pod is not cut off: ${explain()}`,
    },
  ];
}

export const quarantineCheck: Check = {
  name: 'quarantine',
  description: 'The compromised pod is labelled quarantine=true, kept, and isolated by NetworkPolicy in both directions.',
  criteria: ['pod-kept', 'labelled', 'isolated'],
  async run({ kubeConfig, answerKey }) {
    const { name, namespace } = answerKey.compromisedPod;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const pod = await core.readNamespacedPod({ name, namespace }).catch((error: { code?: number }) => {
      if (error.code === 404) return undefined;
      throw error;
    });
    const policies = await networking.listNamespacedNetworkPolicy({ namespace });
    return resultOf(
      judgeQuarantine(
        { ...(pod ? { pod: { name, labels: pod.metadata?.labels ?? {} } } : {}), policies: policies.items as unknown as NetworkPolicy[] },
        name,
        namespace,
      ),
    );
  },
};
