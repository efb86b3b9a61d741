/**
 * Questions about an incident that reached its node, graded against the learner's own key like
 * every investigation question: the node identity the attacker used, the secrets it read, where
 * from, and the decision about the node (rebuild or clean) with its reason.
 */
import type { CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { allIPs, listItems, sameSet, secretRef } from './answer-forms.ts';

type NodeJudge = (answer: string, key: AnswerKey) => CriterionResult;

const noNode = (id: string): CriterionResult => ({ id, passed: false, message: 'this incident did not reach a node: the question belongs to a scenario that escapes to its node' });

/** Words that decide for a rebuild, and reasons that justify it (host root, the node's credential). */
const REBUILD = /\b(rebuild|rebuilt|reimage|re-image|replace|recreate|reprovision|re-provision|destroy|decommission)/i;
const CLEAN_ONLY = /\b(clean|keep|reuse|remove the files|delete the files)\b/i;
const HOST_ROOT = /\b(root|host|nsenter|privileged|hostpid|escape|escaped|pid 1|namespaces?)\b/i;
const CREDENTIAL = /\b(credential|certificate|cert|key|kubelet|pki|identity)\b/i;

export const nodeJudges: Record<string, NodeJudge> = {
  'node-identity': (answer, key) => {
    if (!key.node) return noNode('node-identity');
    const passed = answer.trim().replace(/^["'`]|["'`]$/g, '') === key.node.username;
    return {
      id: 'node-identity',
      passed,
      message: passed
        ? 'right: the node\'s own identity, authenticated by the kubelet\'s client certificate'
        : 'not the identity the node\'s credential shows in the log: look for a user in the group of nodes acting from an address no node has; answer with user.username',
    };
  },

  'node-secrets': (answer, key) => {
    if (!key.node) return noNode('node-secrets');
    const refs = listItems(answer).map(secretRef);
    if (refs.some((r) => r === undefined || r.endsWith('/*'))) return { id: 'node-secrets', passed: false, message: 'write each secret as namespace/name, separated by commas, and nothing else' };
    const passed = sameSet(refs as string[], key.node.secretsRead);
    return {
      id: 'node-secrets',
      passed,
      message: passed
        ? 'right: the secrets the node\'s credential read; the Node authorizer let it read them because pods bound to that node use them'
        : 'not the secrets the node\'s credential read: take its gets of secrets that the API server allowed (responseStatus.code 200); refused ones were not read',
    };
  },

  'node-source-ips': (answer, key) => {
    if (!key.node) return noNode('node-source-ips');
    const given = listItems(answer);
    if (!allIPs(given)) return { id: 'node-source-ips', passed: false, message: 'answer with IP addresses only, separated by commas' };
    const passed = sameSet(given, key.node.sourceIPs);
    return {
      id: 'node-source-ips',
      passed,
      message: passed
        ? 'right: the node\'s credential was used from outside the node, so it was copied off it'
        : 'not the addresses the node\'s credential was used from: read sourceIPs of every request made as the node',
    };
  },

  'node-decision': (answer) => {
    const text = answer.trim();
    const rebuild = REBUILD.test(text);
    const cleanOnly = !rebuild && CLEAN_ONLY.test(text);
    const justified = rebuild && HOST_ROOT.test(text) && CREDENTIAL.test(text);
    return {
      id: 'node-decision',
      passed: justified,
      message: justified
        ? 'right: an attacker with root on a node can have changed anything on it, and its kubelet credential left the node; only a node built anew from a known image can be trusted, with a new credential'
        : cleanOnly
          ? 'a cleaned node is only as clean as your list of what the attacker changed: what could someone with root on it have changed that you cannot see, and which of its credentials left it?'
          : rebuild
            ? 'say why: what did the attacker hold on the node, and what did they take from it?'
            : 'decide what happens to the node (clean it and keep it, or something else) and say why, from what the attacker held on it and what they took',
    };
  },
};
