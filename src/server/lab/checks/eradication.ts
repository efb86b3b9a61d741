/**
 * Eradicate, judged by effect: every stolen credential is revoked at its source (TokenReview
 * rejects it), every secret the compromised identities could read holds new values while its
 * consumers still find what they use, no compromised identity keeps a dangerous right (a full
 * rules review by SelfSubjectRulesReview as each identity), what the attacker created is gone, the workload runs
 * the known-good image with no pod of the compromised one left anywhere, and its egress allows
 * what it needs and nothing else. Feedback names the criterion and where to look, never the
 * attacker's objects, identities or counts.
 */
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { Check } from '../check.ts';
import { gatherEradicationFacts, type EradicationFacts } from './eradication-facts.ts';

/** The image references that mean the known-good image: its tag, its digest, or both. */
export function goodImages(key: AnswerKey): string[] {
  const image = key.compromisedPod.knownGoodImage;
  const digest = key.compromisedPod.knownGoodDigest;
  if (!digest) return [image];
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const repository = colon > slash ? image.slice(0, colon) : image;
  return [image, `${repository}@${digest}`, `${image}@${digest}`];
}

export function judgeEradication(facts: EradicationFacts, key: AnswerKey): CriterionResult[] {
  const good = goodImages(key);
  const w = facts.workload;
  const imageOk = Boolean(w && w.images.length > 0 && w.images.every((i) => good.includes(i)) && w.podImages.length > 0 && w.podImages.every((i) => good.includes(i)));
  const legacyLive = facts.legacyTokensLive.some(Boolean);
  const boundLive = facts.boundTokensLive.some(Boolean);
  const rotated = facts.secretsUnrotated === 0 && facts.secretsRemoved === 0;
  return [
    {
      id: 'legacy-token-revoked',
      passed: !legacyLive,
      message: !legacyLive
        ? 'the stolen long-lived token no longer authenticates (TokenReview)'
        : 'a stolen long-lived (legacy Secret) token still authenticates (TokenReview): a legacy token is valid for as long as its Secret holds it',
    },
    {
      id: 'pod-tokens-revoked',
      passed: !boundLive,
      message: !boundLive
        ? 'the token stolen from the pod no longer authenticates (TokenReview)'
        : 'the token stolen from the compromised pod still authenticates (TokenReview): a pod-bound token lives as long as its pod and service account do; quarantine does not revoke it',
    },
    {
      id: 'secrets-rotated',
      passed: rotated,
      message: rotated
        ? 'every secret the compromised identities could read holds new values'
        : facts.secretsUnrotated > 0
          ? 'a secret one of the compromised identities could read still holds a value it held during the attack: rotating means a new value for every key, not an added key or a re-created object (look at every namespace those identities could read)'
          : 'a secret the compromised identities could read was deleted rather than rotated: deleting a Secret changes no credential, and whatever uses it needs the new value',
    },
    {
      id: 'consumers-work',
      passed: facts.brokenConsumers.length === 0,
      message: facts.brokenConsumers.length === 0
        ? 'every workload still finds the secrets and keys it references'
        : `a workload references a secret or key that no longer exists: ${facts.brokenConsumers[0]}`,
    },
    {
      id: 'rights-revoked',
      passed: facts.rightsLeft.length === 0,
      message: facts.rightsLeft.length === 0
        ? 'no compromised identity keeps a dangerous right (rules review over secrets, tokens, RBAC, impersonation, exec and kube-system)'
        : `a compromised identity may still ${facts.rightsLeft[0]}: review every binding of every identity you scoped (kubectl auth can-i --list --as ...)`,
    },
    {
      id: 'rbac-persistence-removed',
      passed: facts.rbacLeft === 0,
      message: facts.rbacLeft === 0
        ? 'no RBAC object the attacker created is left'
        : 'an RBAC object the attacker created (a role or binding) still exists: find the attacker\'s create requests on RBAC resources in the audit log',
    },
    {
      id: 'workload-persistence-removed',
      passed: facts.workloadsLeft === 0,
      message: facts.workloadsLeft === 0
        ? 'no pod or workload the attacker created is left'
        : 'a pod or workload the attacker created still exists: find the attacker\'s create requests on workloads in the audit log',
    },
    {
      id: 'known-good-image',
      passed: imageOk && facts.compromisedPodsLeft === 0,
      message: !w
        ? 'the workload is gone; recreate it from the known-good image'
        : !imageOk
          ? `the workload ${w.name} runs ${[...new Set([...w.images, ...w.podImages])].join(', ') || 'no pod'}; redeploy it from ${key.compromisedPod.knownGoodImage} (by tag or digest) and wait for the rollout`
          : facts.compromisedPodsLeft > 0
            ? 'a pod of the compromised image still runs, outside the Deployment\'s control too (a relabelled pod is not replaced by a rollout): delete it once its evidence is preserved'
            : `the workload runs ${key.compromisedPod.knownGoodImage} again and no pod of the compromised image is left`,
    },
    {
      id: 'egress-limited',
      passed: facts.needsBlocked.length === 0 && facts.reachesUnneeded.length === 0,
      message: facts.needsBlocked.length > 0
        ? `the workload's egress blocks what it needs: ${facts.needsBlocked[0]}`
        : facts.reachesUnneeded.length > 0
          ? `the workload's egress allows what it does not need: ${facts.reachesUnneeded[0]}; NetworkPolicies add up, so every policy selecting its pods counts`
          : 'the workload\'s egress allows its database and DNS, and nothing outside the cluster or in other namespaces',
    },
  ];
}

export const eradicationCheck: Check = {
  name: 'eradication',
  description: 'Stolen tokens rejected by TokenReview, reachable secrets holding new values with working consumers, no dangerous right left to a compromised identity, the attacker\'s objects gone, the known-good image only, egress limited to what the workload needs.',
  criteria: ['legacy-token-revoked', 'pod-tokens-revoked', 'secrets-rotated', 'consumers-work', 'rights-revoked', 'rbac-persistence-removed', 'workload-persistence-removed', 'known-good-image', 'egress-limited'],
  async run({ kubeConfig, answerKey }, signal) {
    return resultOf(judgeEradication(await gatherEradicationFacts(kubeConfig, answerKey, signal), answerKey));
  },
};
