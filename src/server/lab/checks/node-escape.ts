/**
 * The checks of an incident that escaped to its node (kind): the node taken out of service with
 * the escaped-from workload off it, the node's evidence collected (what the attacker left, hashed;
 * the container's details), and what the node's credential reached revoked (the secrets it read
 * rotated or removed, the privileged workload gone for good). Each judgement is a pure function
 * of facts read from the cluster and the workspace; feedback says where to look, never a path,
 * hash or name from the key.
 */
import { AppsV1Api, CoreV1Api, type V1PodSpec } from '@kubernetes/client-node';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey, NodeKey } from '../../scenarios/answer-key.ts';
import type { Check, LabContext } from '../check.ts';
import { readWorkspaceFile } from '../workspace-files.ts';
import { rotationOf } from './eradication-facts.ts';

const noNode = (ids: readonly string[]): CriterionResult[] =>
  ids.map((id) => ({ id, passed: false, message: 'this incident did not reach a node (its answer key has no node): this check belongs to a scenario that escapes to its node, on kind' }));

// ---- isolate ----------------------------------------------------------------------------------

export interface IsolationFacts {
  /** The node exists (a deleted Node object is no isolation: the kubelet registers it again). */
  found: boolean;
  unschedulable: boolean;
  /** Taints with effect NoSchedule or NoExecute. */
  blockingTaints: number;
  /** Pods of the compromised workload (its labels, its namespace) running on the node, not terminating. */
  workloadPodsRunning: number;
  /** Of those, the very pod the attacker used. */
  originalRunning: boolean;
}

export function judgeIsolation(facts: IsolationFacts): CriterionResult[] {
  const unschedulable = facts.found && (facts.unschedulable || facts.blockingTaints > 0);
  const off = facts.workloadPodsRunning === 0;
  return [
    {
      id: 'node-unschedulable',
      passed: unschedulable,
      message: unschedulable
        ? 'the node takes no new pods'
        : 'the node still takes new pods: mark it unschedulable (kubectl cordon) or taint it so that nothing new lands on it',
    },
    {
      id: 'workload-off-node',
      passed: off,
      message: off
        ? 'no pod of the escaped-from workload runs on the node any more'
        : facts.originalRunning
          ? 'the pod the attacker used still runs on the node: cordoning stops new pods, not running ones, and a drain skips DaemonSet pods'
          : 'a pod of the escaped-from workload runs on the node again: its controller replaced the one that went; a DaemonSet tolerates an unschedulable node, not a taint it does not tolerate',
    },
  ];
}

async function isolationFacts(context: LabContext, node: NodeKey): Promise<IsolationFacts> {
  const core = context.kubeConfig.makeApiClient(CoreV1Api);
  const pod = context.answerKey.compromisedPod;
  const selector = Object.entries(pod.labels).filter(([key]) => !['pod-template-hash', 'controller-revision-hash', 'pod-template-generation'].includes(key)).map(([key, value]) => `${key}=${value}`).join(',');
  const [nodeObject, pods] = await Promise.all([
    core.readNode({ name: node.name }).catch(() => undefined),
    core.listNamespacedPod({ namespace: pod.namespace, labelSelector: selector, fieldSelector: `spec.nodeName=${node.name}` }),
  ]);
  const running = pods.items.filter((p) => !p.metadata?.deletionTimestamp && ['Running', 'Pending'].includes(p.status?.phase ?? ''));
  return {
    found: Boolean(nodeObject),
    unschedulable: nodeObject?.spec?.unschedulable === true,
    blockingTaints: (nodeObject?.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute').length,
    workloadPodsRunning: running.length,
    originalRunning: running.some((p) => p.metadata?.uid === pod.uid),
  };
}

export const nodeIsolationCheck: Check = {
  name: 'node-isolation',
  description: 'The compromised node takes no new pods (cordoned or tainted NoSchedule/NoExecute) and no pod of the escaped-from workload runs on it, the original or a replacement.',
  criteria: ['node-unschedulable', 'workload-off-node'],
  async run(context) {
    const node = context.answerKey.node;
    if (!node) return resultOf(noNode(this.criteria));
    return resultOf(judgeIsolation(await isolationFacts(context, node)));
  },
};

// ---- collect ----------------------------------------------------------------------------------

export interface NodeEvidenceFacts {
  /** Every `<sha256> <path>` line of the workspace's node-evidence/files-*.txt listings. */
  hashedPaths: Set<string>;
  /** Hashes listed in the kubelet credential directory's listing. */
  pkiHashes: Set<string>;
  /** The container the workspace's crictl inspect of the key's container id names, if any. */
  inspectedId: string | undefined;
}

export function judgeNodeEvidence(facts: NodeEvidenceFacts, node: NodeKey): CriterionResult[] {
  const listed = node.files.every((f) => facts.hashedPaths.has(`${f.sha256} ${f.path}`));
  const copies = node.files.filter((f) => facts.pkiHashes.has(f.sha256));
  const compared = listed && copies.length > 0;
  const inspected = facts.inspectedId === node.container.id;
  return [
    {
      id: 'node-files',
      passed: listed,
      message: listed
        ? 'node-evidence/ holds a listing, with SHA-256, of every file the attacker left on the node'
        : 'node-evidence/ does not yet list, with hashes, every file the attacker left on the node: collect the places a root attacker writes to (temporary and shared-memory directories, scheduled jobs, services)',
    },
    {
      id: 'credential-compared',
      passed: compared,
      message: compared
        ? 'the hashes show that a file the attacker left is a copy of the kubelet\'s own client credential'
        : 'collect the kubelet\'s credential directory too: its hashes, beside those of the attacker\'s files, show what was copied',
    },
    {
      id: 'container',
      passed: inspected,
      message: inspected
        ? 'node-evidence/ holds crictl inspect of the container the attacker escaped from'
        : 'node-evidence/ has no crictl inspect of the container the attacker escaped from: find it in the container list (crictl ps -a) by its pod, and inspect it while the runtime still has it',
    },
  ];
}

async function nodeEvidenceFacts(workspace: string, node: NodeKey, signal: AbortSignal): Promise<NodeEvidenceFacts> {
  const read = async (name: string) => {
    const file = await readWorkspaceFile(workspace, `node-evidence/${name}`, { signal, maxBytes: 4 * 1024 * 1024 });
    return file.ok ? file.content.toString('utf8') : '';
  };
  const listings = await Promise.all(['tmp', 'dev-shm', 'cron-d', 'systemd-system', 'kubelet-pki'].map((area) => read(`files-${area}.txt`)));
  const lines = (text: string) => text.split('\n').map((line) => /^([0-9a-f]{64})\s+\*?(\/.*)$/.exec(line.trim())).filter((m): m is RegExpExecArray => Boolean(m));
  const hashedPaths = new Set(listings.flatMap((text) => lines(text).map((m) => `${m[1]} ${m[2]}`)));
  const pkiHashes = new Set(lines(listings.at(-1) ?? '').map((m) => m[1]!));
  let inspectedId: string | undefined;
  try {
    const inspect = JSON.parse(await read(`crictl-inspect-${node.container.id}.json`)) as { status?: { id?: string } };
    inspectedId = inspect.status?.id;
  } catch {
    inspectedId = undefined;
  }
  return { hashedPaths, pkiHashes, inspectedId };
}

export const nodeEvidenceCheck: Check = {
  name: 'node-evidence',
  description: 'node-evidence/ in the workspace (collected by the server from the kind node) lists every file the attacker left with its SHA-256, the kubelet credential directory beside it, and holds crictl inspect of the escaped-from container.',
  criteria: ['node-files', 'credential-compared', 'container'],
  needs: { workspace: true },
  async run(context, signal) {
    const node = context.answerKey.node;
    if (!node) return resultOf(noNode(this.criteria));
    return resultOf(judgeNodeEvidence(await nodeEvidenceFacts(context.workspace, node, signal), node));
  },
};

// ---- revoke -----------------------------------------------------------------------------------

export interface NodeRevocationFacts {
  /** Secrets the node's credential read that still hold a value of the attack's time. */
  secretsUnrotated: number;
  /** Workload controllers in the namespace whose pods would be privileged, share the host's PIDs or mount its root. */
  dangerousControllers: number;
  /** Pods there, running or about to, that are. */
  dangerousPods: number;
}

/** Would this pod spec give a process root on its node? */
export function hostRootSpec(spec: V1PodSpec | undefined): boolean {
  if (!spec) return false;
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return Boolean(
    spec.hostPID ||
      containers.some((c) => c.securityContext?.privileged) ||
      (spec.volumes ?? []).some((v) => v.hostPath && v.hostPath.path.replace(/\/+$/, '') === ''),
  );
}

export function judgeNodeRevocation(facts: NodeRevocationFacts): CriterionResult[] {
  const rotated = facts.secretsUnrotated === 0;
  const gone = facts.dangerousControllers === 0 && facts.dangerousPods === 0;
  return [
    {
      id: 'node-secrets-rotated',
      passed: rotated,
      message: rotated
        ? 'no secret the node\'s credential read still holds a value it held during the attack'
        : 'a secret the node\'s credential read still holds the value it had during the attack: give every key a new value (or remove the secret)',
    },
    {
      id: 'privileged-workload-removed',
      passed: gone,
      message: gone
        ? 'nothing in the namespace can run a privileged, host-PID or host-root pod any more'
        : facts.dangerousControllers > 0
          ? 'a controller in the namespace still has a pod template that is privileged, shares the host\'s PIDs or mounts its root: deleting its pods is not enough, it makes new ones'
          : 'a pod in the namespace is still privileged, shares the host\'s PIDs or mounts its root',
    },
  ];
}

async function revocationFacts(context: LabContext, key: AnswerKey, node: NodeKey): Promise<NodeRevocationFacts> {
  const core = context.kubeConfig.makeApiClient(CoreV1Api);
  const apps = context.kubeConfig.makeApiClient(AppsV1Api);
  const namespace = key.compromisedPod.namespace;
  const read = new Set(node.secretsRead);
  const seeded = (key.scope?.secrets ?? []).filter((s) => read.has(`${s.namespace}/${s.name}`));
  const [secrets, daemonSets, deployments, statefulSets, replicaSets, pods] = await Promise.all([
    Promise.all(seeded.map((s) => core.readNamespacedSecret({ namespace: s.namespace, name: s.name }).then((o): [string, Record<string, string> | undefined] => [`${s.namespace}/${s.name}`, o.data], (): [string, undefined] => [`${s.namespace}/${s.name}`, undefined]))),
    apps.listNamespacedDaemonSet({ namespace }),
    apps.listNamespacedDeployment({ namespace }),
    apps.listNamespacedStatefulSet({ namespace }),
    apps.listNamespacedReplicaSet({ namespace }),
    core.listNamespacedPod({ namespace }),
  ]);
  const data = new Map<string, Record<string, string> | undefined>(secrets);
  const controllers = [...daemonSets.items, ...deployments.items, ...statefulSets.items, ...replicaSets.items.filter((r) => (r.spec?.replicas ?? 0) > 0)];
  return {
    // Removal is accepted: a node that read a secret no longer has it to read.
    secretsUnrotated: rotationOf(seeded, (ref) => data.get(ref)).secretsUnrotated,
    dangerousControllers: controllers.filter((c) => hostRootSpec(c.spec?.template?.spec)).length,
    dangerousPods: pods.items.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '') && hostRootSpec(p.spec)).length,
  };
}

export const nodeRevocationCheck: Check = {
  name: 'node-revocation',
  description: 'Every secret the node\'s credential read holds new values (or is gone), and no controller or pod in the escaped-from namespace is privileged, host-PID or mounts the host\'s root.',
  criteria: ['node-secrets-rotated', 'privileged-workload-removed'],
  async run(context) {
    const node = context.answerKey.node;
    if (!node) return resultOf(noNode(this.criteria));
    return resultOf(judgeNodeRevocation(await revocationFacts(context, context.answerKey, node)));
  },
};
