/**
 * Preserve evidence: the pod's manifest, logs, describe output and /tmp are in the workspace,
 * they are this pod's (uid, log lines, file hashes), and they were taken before any deletion
 * of the pod (audit timestamps).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import { excerpt } from '../../../lib/excerpt.ts';
import type { AuditEvent } from '../../cluster/types.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { podDir } from '../../scenarios/pod-evidence.ts';
import type { Check } from '../check.ts';
import { readWorkspaceFile, sha256 } from '../workspace-files.ts';

/** The container log's text lines, without the CRI prefix the kubelet adds. */
export function criLines(cri: string): string[] {
  return cri
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.replace(/^\S+ (stdout|stderr) [FP] /, ''));
}

export async function judgeEvidence(workspace: string, key: AnswerKey, logLines: string[], events: AuditEvent[]): Promise<CriterionResult[]> {
  const { name, namespace, uid } = key.compromisedPod;
  const criteria: CriterionResult[] = [];

  const manifest = await readWorkspaceFile(workspace, 'pod-evidence.yaml');
  if (!manifest.ok) criteria.push({ id: 'manifest', passed: false, message: `pod-evidence.yaml: ${manifest.reason}; save it with kubectl get pod ... -o yaml > pod-evidence.yaml` });
  else {
    let doc: { kind?: string; metadata?: { uid?: string; name?: string } } | undefined;
    try {
      doc = parse(manifest.content.toString('utf8')) as typeof doc;
    } catch {
      doc = undefined;
    }
    const passed = doc?.kind === 'Pod' && doc.metadata?.uid === uid;
    criteria.push({
      id: 'manifest',
      passed,
      message: passed ? 'pod-evidence.yaml is the pod\'s full manifest (its uid matches)' : doc?.kind !== 'Pod' ? 'pod-evidence.yaml is not a Pod manifest in YAML' : `pod-evidence.yaml is pod ${typeof doc.metadata?.name === 'string' ? excerpt(doc.metadata.name, 64) : '?'}, not the compromised pod ${name} (uid differs)`,
    });
  }

  const logs = await readWorkspaceFile(workspace, 'pod-logs.txt');
  if (!logs.ok) criteria.push({ id: 'logs', passed: false, message: `pod-logs.txt: ${logs.reason}` });
  else {
    const text = logs.content.toString('utf8');
    const missing = logLines.filter((line) => !text.includes(line)).length;
    criteria.push({
      id: 'logs',
      passed: missing === 0 && logLines.length > 0,
      message: missing === 0 ? `pod-logs.txt holds all ${logLines.length} log lines` : `pod-logs.txt lacks ${missing} of the pod's ${logLines.length} log lines; use kubectl logs ... --all-containers`,
    });
  }

  const describe = await readWorkspaceFile(workspace, 'pod-describe.txt');
  const describeText = describe.ok ? describe.content.toString('utf8') : '';
  const described = /^Name:\s+(\S+)/m.exec(describeText)?.[1] === name && /^Namespace:\s+(\S+)/m.exec(describeText)?.[1] === namespace;
  criteria.push({
    id: 'describe',
    passed: described,
    message: !describe.ok ? `pod-describe.txt: ${describe.reason}` : described ? 'pod-describe.txt is the pod\'s describe output' : `pod-describe.txt is not kubectl describe output for ${namespace}/${name}`,
  });

  const planted = key.files.filter((f) => f.path.startsWith('/tmp/'));
  let matching = 0;
  for (const file of planted) {
    const relative = file.path.slice('/tmp/'.length);
    for (const base of ['evidence/tmp', 'evidence/tmp/tmp']) {
      const copy = await readWorkspaceFile(workspace, path.join(base, relative));
      if (copy.ok && sha256(copy.content) === file.sha256) {
        matching += 1;
        break;
      }
    }
  }
  criteria.push({
    id: 'filesystem',
    passed: matching === planted.length,
    message: matching === planted.length ? `evidence/tmp/ holds the pod's /tmp (${planted.length} files, hashes match)` : `evidence/tmp/ has ${matching} of the ${planted.length} files in the pod's /tmp with matching hashes; copy it with kubectl cp ${namespace}/${name}:/tmp ./evidence/tmp/`,
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
  async run({ workspace, answerKey, cluster, auditEvents }) {
    const { namespace, name, containers } = answerKey.compromisedPod;
    const logFile = path.join(podDir(cluster.dir, namespace, name).logs, `${containers[0] ?? 'main'}.log`);
    const lines = criLines(await readFile(logFile, 'utf8').catch(() => ''));
    return resultOf(await judgeEvidence(workspace, answerKey, lines, await auditEvents()));
  },
};
