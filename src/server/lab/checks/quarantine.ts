/**
 * Contain: the compromised pod carries quarantine=true, still exists (contained, not deleted),
 * and the NetworkPolicies of its namespace cut it off in both directions.
 */
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { Check } from '../check.ts';
import { isolationOf, type NetworkPolicy } from '../network-policy.ts';
import { kindNodeOf } from '../../cluster/kind-workloads.ts';
import { capabilitiesOf } from '../../cluster/types.ts';
import { pause } from '../../scenarios/timeline.ts';
import { crictlConnectAll, endpointsOf, nothingTried, probeWire, type WireFacts } from './wire-probe.ts';

export interface QuarantineFacts {
  pod?: { name: string; labels: Record<string, string> };
  policies: NetworkPolicy[];
  /** Real connection attempts, where pods are real containers (kind): `cut-proven`. */
  wire?: WireFacts;
}

/** The cut as connections show it; messages say where a connection came from, never which pod. */
function judgeWire(wire: WireFacts, isolatedOnPaper: boolean): CriterionResult {
  const id = 'cut-proven';
  if (wire.probers === 0 && wire.triedOut === 0) {
    return { id, passed: isolatedOnPaper, message: 'no connection could be tried (no other pod answers here), so the cut is judged from the policies alone' };
  }
  if (wire.reachedIn.length) {
    const from = wire.reachedIn.includes('same') ? 'a pod in its own namespace' : 'a pod in another namespace';
    return { id, passed: false, message: `a real connection from ${from} reached the compromised pod on port ${wire.port} after your policies: some rule still admits it (an allow rule for "trusted" pods is still a way in)` };
  }
  if (wire.reachedOut) {
    return { id, passed: false, message: `the compromised pod opened a real connection to ${wire.reachedOut} of ${wire.triedOut} pods that serve a port: its egress is not cut` };
  }
  const untried = [...wire.untriedIn, ...wire.untriedOut];
  const tried = `${wire.probers} pod${wire.probers === 1 ? '' : 's'} that reach others could not reach the compromised pod, and it reached none of`;
  if (!untried.length) return { id, passed: true, message: `tried on the wire: ${tried} ${wire.triedOut} pods` };
  // More pods than one round tries (MAX_PROBERS, MAX_TARGETS): what was not tried is said, and the policies judge it.
  const shown = untried.slice(0, UNTRIED_NAMED).join(', ') + (untried.length > UNTRIED_NAMED ? ` and ${untried.length - UNTRIED_NAMED} more` : '');
  return {
    id,
    passed: isolatedOnPaper,
    message: `tried on the wire up to a round's limit: ${tried} the first ${wire.triedOut} pods that serve a port; left untried: ${shown}; ${isolatedOnPaper ? 'the policies cut those off too' : 'for those the policies decide, and they do not cut the pod off'}`,
  };
}

/** How many untried pods a verdict names (the rest are counted). */
const UNTRIED_NAMED = 5;

// Messages never name the pod: finding which pod is compromised is part of the exercise.
export function judgeQuarantine(facts: QuarantineFacts): CriterionResult[] {
  if (!facts.pod) {
    const message = 'the compromised pod is gone: containment keeps the pod for evidence; isolate it instead of deleting it';
    return [
      { id: 'pod-kept', passed: false, message },
      { id: 'labelled', passed: false, message: 'the pod no longer exists, so it cannot be labelled' },
      { id: 'isolated', passed: false, message: 'the pod no longer exists' },
      ...(facts.wire ? [{ id: 'cut-proven', passed: false, message: 'the pod no longer exists, so no connection to it can be tried' }] : []),
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
    ...(facts.wire ? [judgeWire(facts.wire, isolation.allowed.length === 0)] : []),
  ];
}

export const quarantineCheck: Check = {
  name: 'quarantine',
  description: 'The compromised pod is labelled quarantine=true, kept, and isolated by NetworkPolicy in both directions (on kind also by real connection attempts: cut-proven).',
  criteria: ['pod-kept', 'labelled', 'isolated', 'cut-proven'],
  async run({ kubeConfig, answerKey, cluster }, signal) {
    const { name, namespace } = answerKey.compromisedPod;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const pod = await core.readNamespacedPod({ name, namespace }).catch((error: { code?: number }) => {
      if (error.code === 404) return undefined;
      throw error;
    });
    const policies = await networking.listNamespacedNetworkPolicy({ namespace });
    // Real containers (kind) answer connections: the cut is tried, not only read from the policies.
    let wire: WireFacts | undefined;
    if (capabilitiesOf(cluster).realContainers) {
      const node = await kindNodeOf(cluster);
      const endpoints = endpointsOf((await core.listPodForAllNamespaces()).items);
      wire = pod ? await probeWire({ namespace, name }, endpoints, crictlConnectAll(node, signal), { sleep: (ms) => pause(ms, signal) }) : nothingTried();
    }
    return resultOf(
      judgeQuarantine({ ...(pod ? { pod: { name, labels: pod.metadata?.labels ?? {} } } : {}), policies: policies.items as unknown as NetworkPolicy[], ...(wire ? { wire } : {}) }),
    );
  },
};
