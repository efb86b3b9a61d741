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

// Messages never name the pod: finding which pod is compromised is part of the exercise.
export function judgeQuarantine(facts: QuarantineFacts): CriterionResult[] {
  if (!facts.pod) {
    const message = 'the compromised pod is gone: containment keeps the pod for evidence; isolate it instead of deleting it';
    return [
      { id: 'pod-kept', passed: false, message },
      { id: 'labelled', passed: false, message: 'the pod no longer exists, so it cannot be labelled' },
      { id: 'isolated', passed: false, message: 'the pod no longer exists' },
    ];
  }
  const label = facts.pod.labels.quarantine;
  const isolation = isolationOf(facts.pod, facts.policies);
  const explain = () => {
    const parts = isolation.selecting.length
      ? [`selected by ${isolation.selecting.map((n) => `"${n}"`).join(', ')}, but it still allows ${isolation.allowed.join('; ')}`]
      : ['no NetworkPolicy in the namespace selects the pod'];
    for (const other of isolation.notSelecting) parts.push(`"${other.name}" does not apply: ${other.why}`);
    return parts.join('. ');
  };
  return [
    { id: 'pod-kept', passed: true, message: 'the compromised pod still exists for the investigation' },
    {
      id: 'labelled',
      passed: label === 'true',
      message: label === 'true' ? 'the compromised pod is labelled quarantine=true' : `the compromised pod has ${label === undefined ? 'no quarantine label' : `quarantine=${label}`}; label it quarantine=true`,
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
      judgeQuarantine({ ...(pod ? { pod: { name, labels: pod.metadata?.labels ?? {} } } : {}), policies: policies.items as unknown as NetworkPolicy[] }),
    );
  },
};
