/**
 * The one interface every lab check implements. A check reads the learner's cluster (through
 * @kubernetes/client-node), its audit log, the learner's workspace and the answer key, and
 * returns a verdict per criterion. Nothing from the browser is trusted but the learner's answers.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { CheckResult } from '../../lib/check-result.ts';
import type { AuditEvent, ClusterInfo, ClusterProvider } from '../cluster/types.ts';
import type { AnswerKey } from '../scenarios/answer-key.ts';

export interface LabContext {
  cluster: ClusterInfo;
  provider: ClusterProvider;
  /** Admin access to the learner's cluster, for the checks' own reads. */
  kubeConfig: KubeConfig;
  /** The learner's workspace directory (their shell's home and working directory). */
  workspace: string;
  answerKey: AnswerKey;
  /** The learner's answers to this step's questions, by question id. */
  answers: Record<string, string>;
  /** SHA-256 of the audit policy the learner last applied to this run's API server, if any. */
  appliedPolicySha256?: string;
  /** Ids of the questions this step asks. */
  questions: string[];
  /** Every audit event so far (ResponseComplete stage), read fresh for each check run. */
  auditEvents: () => Promise<AuditEvent[]>;
}

export interface Check {
  /** Registry name, as lab files refer to it. */
  name: string;
  /** What it proves, for authors (irlab validate lists it). */
  description: string;
  /** Ids of the criteria it reports, in order. */
  criteria: readonly string[];
  run(context: LabContext): Promise<CheckResult>;
}
