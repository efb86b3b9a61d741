/**
 * What a check sees (LabContext), built on the run's signal: an admin kubeconfig whose every
 * request is cancelled with it, and audit reads that stop with it.
 */
import { abortableKubeConfig } from '../cluster/abortable-kube-config.ts';
import { readAuditLog } from '../cluster/audit-log.ts';
import type { AuditEvent, ClusterInfo, ClusterProvider } from '../cluster/types.ts';
import type { LabContext } from '../lab/check.ts';
import type { AnswerKey } from '../scenarios/answer-key.ts';

/** Every event of `auditLogPath` at the ResponseComplete stage; rejects once `signal` aborts. */
export async function responseCompleteEvents(auditLogPath: string, signal: AbortSignal): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readAuditLog(auditLogPath, { signal })) if (event.stage === 'ResponseComplete') events.push(event);
  // The reader ends quietly on abort: a log read halfway is nothing to grade.
  signal.throwIfAborted();
  return events;
}

export interface ContextParts {
  cluster: ClusterInfo;
  provider: ClusterProvider;
  answerKey: AnswerKey;
  workspace: string;
  answers: Record<string, string>;
  questions: string[];
  /** The policy applied through the lab's Apply, if any (undefined: nothing applied). */
  appliedPolicySha256: string | undefined;
}

export function checkContext(parts: ContextParts, signal: AbortSignal): LabContext {
  const { cluster, appliedPolicySha256 } = parts;
  return {
    cluster,
    provider: parts.provider,
    kubeConfig: abortableKubeConfig(cluster.kubeconfigPath, signal),
    workspace: parts.workspace,
    answerKey: parts.answerKey,
    answers: parts.answers,
    ...(appliedPolicySha256 ? { appliedPolicySha256 } : {}),
    questions: parts.questions,
    auditEvents: () => responseCompleteEvents(cluster.auditLogPath, signal),
  };
}
