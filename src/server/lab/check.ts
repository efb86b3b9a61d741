/**
 * The one interface every lab check implements. A check reads the learner's cluster (through
 * @kubernetes/client-node), its audit log, the learner's workspace and the answer key, and
 * returns a verdict per criterion. Nothing from the browser is trusted but the learner's answers.
 * Checks run through src/server/grading (labs and drills alike), each with a time limit: when it
 * is spent the signal aborts, and the check's work must stop (see `run`).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { CheckResult } from '../../lib/check-result.ts';
import type { AuditEvent, ClusterInfo, ClusterProvider } from '../cluster/types.ts';
import type { AnswerKey } from '../scenarios/answer-key.ts';

export interface LabContext {
  cluster: ClusterInfo;
  provider: ClusterProvider;
  /** Admin access to the learner's cluster, for the checks' own reads; every request made with
   * it (client-node clients, `callApi`, `tokenKubeConfig` derived from it) is cancelled with the run's signal. */
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
  /** Every audit event so far (ResponseComplete stage), read fresh for each check run; rejects once the run is aborted. */
  auditEvents: () => Promise<AuditEvent[]>;
}

export interface Check {
  /** Registry name, as lab files refer to it. */
  name: string;
  /** What it proves, for authors (irlab validate lists it). */
  description: string;
  /** Ids of the criteria it reports, in order. */
  criteria: readonly string[];
  /**
   * What the check reads besides the cluster and the answer key. `workspace`: a drill tries it
   * in every participant's workspace and keeps the best. `appliedPolicy`: it needs a policy applied
   * to the API server through the lab's Apply, which drills do not have (drill validation refuses it).
   */
  needs?: { workspace?: true; appliedPolicy?: true };
  /**
   * `signal` aborts when the time limit is spent (or the caller gives up: a drill that ended, a
   * server shutting down). Pass it to whatever waits: workspace reads (`readWorkspaceFile`'s
   * `signal`), sleeps, child processes (`execFile(..., { signal })`), requests not made with
   * `context.kubeConfig`. The runner stops waiting for the check at once either way.
   */
  run(context: LabContext, signal: AbortSignal): Promise<CheckResult>;
}
