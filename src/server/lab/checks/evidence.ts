/**
 * Preserve evidence: the pod's manifest, logs, describe output and /tmp are in the workspace,
 * each is the real output for this pod (parsed and compared with the cluster's object, every log
 * line, every file's hash), and they were taken before any deletion of the pod (audit timestamps).
 * No message names the pod: finding it is the contain step's work.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AuditEvent } from '../../cluster/types.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { podDir } from '../../scenarios/pod-evidence.ts';
import type { Check } from '../check.ts';
import { readWorkspaceFile, sha256 } from '../workspace-files.ts';
import { judgeDescribe, judgeManifest, type PodFacts } from './evidence-artefacts.ts';

/** The container log's text lines, without the CRI prefix the kubelet adds. */
export function criLines(cri: string): string[] {
  return cri
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.replace(/^\S+ (stdout|stderr) [FP] /, ''));
}

/** The pod as the answer key recorded it at seeding, for when it is gone from the cluster. */
export function podFactsFromKey(key: AnswerKey): PodFacts {
  const { name, namespace, uid, ip, serviceAccount, containers, images } = key.compromisedPod;
  return { name, namespace, uid, ip, serviceAccount, containers: containers.map((c, i) => ({ name: c, image: images[i] ?? '' })) };
}

/** The live pod's facts, when the cluster still holds the compromised pod (same uid). */
export function podFactsFromObject(pod: V1Pod, key: AnswerKey): PodFacts | undefined {
  if (pod.metadata?.uid !== key.compromisedPod.uid) return undefined;
  const known = podFactsFromKey(key);
  return {
    ...known,
    containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '' })),
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(pod.metadata.creationTimestamp ? { creationTimestamp: new Date(pod.metadata.creationTimestamp).toISOString() } : {}),
    ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
  };
}

const WHERE = 'compare its uid with the pod whose address made the attacker\'s requests';

export async function judgeEvidence(workspace: string, key: AnswerKey, logLines: string[], events: AuditEvent[], pod: PodFacts = podFactsFromKey(key), signal?: AbortSignal): Promise<CriterionResult[]> {
  const { name, namespace } = key.compromisedPod;
  const read = (relative: string) => readWorkspaceFile(workspace, relative, { signal });
  const criteria: CriterionResult[] = [];

  const manifest = await read('pod-evidence.yaml');
  if (!manifest.ok) criteria.push({ id: 'manifest', passed: false, message: `pod-evidence.yaml: ${manifest.reason}; save it with kubectl get pod ... -o yaml > pod-evidence.yaml` });
  else {
    const verdict = judgeManifest(manifest.content.toString('utf8'), pod);
    const passed = !verdict.notYaml && verdict.wrong.length === 0;
    criteria.push({
      id: 'manifest',
      passed,
      message: passed
        ? 'pod-evidence.yaml is the compromised pod\'s full manifest (metadata, spec and status agree with the cluster)'
        : verdict.notYaml
          ? 'pod-evidence.yaml is not a Pod manifest in YAML: save the whole output of kubectl get pod ... -o yaml'
          : verdict.otherPod
            ? `pod-evidence.yaml is not the compromised pod's manifest: ${WHERE}`
            : `pod-evidence.yaml is not the pod's manifest as kubectl get pod ... -o yaml prints it: ${verdict.wrong.join(', ')} missing or different from the cluster's object`,
    });
  }

  const logs = await read('pod-logs.txt');
  if (!logs.ok) criteria.push({ id: 'logs', passed: false, message: `pod-logs.txt: ${logs.reason}` });
  else {
    const text = logs.content.toString('utf8');
    const complete = logLines.length > 0 && logLines.every((line) => text.includes(line));
    criteria.push({
      id: 'logs',
      passed: complete,
      message: complete ? 'pod-logs.txt holds every line of the pod\'s log' : 'pod-logs.txt does not hold the compromised pod\'s whole log: save the output of kubectl logs ... --all-containers, unedited',
    });
  }

  const describe = await read('pod-describe.txt');
  const described = describe.ok ? judgeDescribe(describe.content.toString('utf8'), pod) : undefined;
  criteria.push({
    id: 'describe',
    passed: described !== undefined && described.wrong.length === 0,
    message: !describe.ok
      ? `pod-describe.txt: ${describe.reason}`
      : described!.wrong.length === 0
        ? 'pod-describe.txt is the pod\'s kubectl describe output (every section agrees with the cluster)'
        : described!.otherPod
          ? 'pod-describe.txt is not the compromised pod\'s kubectl describe output: compare its Name and IP with the pod whose address made the attacker\'s requests'
          : `pod-describe.txt is not kubectl describe pod output for the pod: ${described!.wrong.join(', ')} missing or different; save the whole output, unedited`,
  });

  const planted = key.files.filter((f) => f.path.startsWith('/tmp/'));
  let matching = 0;
  for (const file of planted) {
    const relative = file.path.slice('/tmp/'.length);
    for (const base of ['evidence/tmp', 'evidence/tmp/tmp']) {
      const copy = await read(path.join(base, relative));
      if (copy.ok && sha256(copy.content) === file.sha256) {
        matching += 1;
        break;
      }
    }
  }
  criteria.push({
    id: 'filesystem',
    passed: matching === planted.length,
    message: matching === planted.length ? 'evidence/tmp/ holds the pod\'s /tmp (every file\'s hash matches)' : 'evidence/tmp/ does not hold the compromised pod\'s /tmp, byte for byte: copy it with kubectl cp <namespace>/<pod>:/tmp ./evidence/tmp/',
  });

  const deletion = events.find((e) => e.verb === 'delete' && e.objectRef?.resource === 'pods' && !e.objectRef.subresource && e.objectRef.namespace === namespace && e.objectRef.name === name);
  const late = deletion
    ? events.filter(
        (e) =>
          e.objectRef?.namespace === namespace &&
          e.objectRef.name === name &&
          e.objectRef.resource === 'pods' &&
          ['log', 'exec', undefined].includes(e.objectRef.subresource) &&
          (e.verb === 'get' || e.objectRef.subresource === 'exec') &&
          (e.requestReceivedTimestamp ?? '') > (deletion.requestReceivedTimestamp ?? ''),
      )
    : [];
  criteria.push({
    id: 'before-deletion',
    passed: !deletion || late.length === 0,
    message: !deletion ? 'the pod has not been deleted: the evidence was taken while it existed' : late.length === 0 ? 'the evidence was taken before the pod was deleted' : `the pod was deleted at ${deletion.requestReceivedTimestamp} before ${late.length} evidence request(s): preserve first, delete after`,
  });
  return criteria;
}

export const evidenceCheck: Check = {
  name: 'evidence',
  description: 'pod-evidence.yaml, pod-logs.txt, pod-describe.txt and evidence/tmp/ are the compromised pod\'s, taken before it was deleted.',
  criteria: ['manifest', 'logs', 'describe', 'filesystem', 'before-deletion'],
  needs: { workspace: true },
  async run({ workspace, answerKey, cluster, auditEvents, kubeConfig }, signal) {
    const { namespace, name, containers } = answerKey.compromisedPod;
    const logDir = podDir(cluster.dir, namespace, name).logs;
    // kubectl logs --all-containers prints every container's log.
    const lines = (await Promise.all(containers.map((c) => readFile(path.join(logDir, `${c}.log`), { encoding: 'utf8', signal }).catch(() => '')))).flatMap(criLines);
    const live = await kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ name, namespace })
      .catch((error: { code?: number }) => {
        if (error.code === 404) return undefined;
        throw error;
      });
    const pod = (live && podFactsFromObject(live, answerKey)) ?? podFactsFromKey(answerKey);
    return resultOf(await judgeEvidence(workspace, answerKey, lines, await auditEvents(), pod, signal));
  },
};
