/**
 * The one path labs and drills grade a step through: the cluster's answer key, a context per
 * check built on that check's own signal, each check run with a time limit that cancels it
 * (runner.ts), the criteria of all the step's checks in order. A lab passes its learner's
 * workspace; a drill passes every participant's, and a check that reads a workspace
 * (`needs.workspace`) is tried in each, the best result kept.
 */
import { brandStatus } from '../../lib/error-status.ts';
import { resultOf, type CheckResult, type CriterionResult } from '../../lib/check-result.ts';
import type { ClusterInfo, ClusterProvider } from '../cluster/types.ts';
import type { Check } from '../lab/check.ts';
import { CHECKS } from '../lab/checks/registry.ts';
import { readAnswerKey } from '../scenarios/answer-key.ts';
import { checkContext } from './context.ts';
import { runCheck } from './runner.ts';

export const DEFAULT_CHECK_TIMEOUT_MS = 20_000;

export interface StepGrading {
  /** The cluster to grade, as its owner found it (a lab recovers a lost one first). */
  cluster: ClusterInfo;
  step: { id: string; checks: readonly string[]; questions: ReadonlyArray<{ id: string }> };
  /** Where workspace checks look, first one first; at least one (an empty directory will do). */
  workspaces: readonly string[];
  answers: Record<string, string>;
  /** SHA-256 of the policy applied through the lab's Apply; undefined when none was (drills have no Apply). */
  appliedPolicySha256: string | undefined;
  /** The caller's: aborting it cancels the running check (a drill that ended, a reset, shutdown). */
  signal?: AbortSignal | undefined;
}

export interface StepGraderOptions {
  provider: ClusterProvider;
  /** Directory of the answer keys (answer-key.ts). */
  answerKeys: string;
  /** Per check; default 20 s. */
  checkTimeoutMs?: number | undefined;
  /** The registry (tests pass their own checks). */
  checks?: ReadonlyMap<string, Check>;
}

/** The cluster named `name` if the provider still has it. */
export async function findCluster(provider: ClusterProvider, name: string): Promise<ClusterInfo | undefined> {
  return (await provider.list()).find((c) => c.name === name);
}

export function stepGrader(options: StepGraderOptions) {
  const checks = options.checks ?? CHECKS;
  const limitMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;

  return async function grade(request: StepGrading): Promise<CheckResult> {
    const { cluster, step } = request;
    const [first] = request.workspaces;
    if (first === undefined) throw new Error(`grading step ${step.id} needs a workspace (an empty directory will do)`);
    const named = step.checks.map((name) => {
      const check = checks.get(name);
      if (!check) {
        const unknown = new Error(`step ${step.id} names an unknown check ${name}; irlab validate lists the registered ones`);
        brandStatus(unknown, 500);
        throw unknown;
      }
      return check;
    });
    request.signal?.throwIfAborted();
    const answerKey = await readAnswerKey(options.answerKeys, cluster.name);
    const questions = step.questions.map((q) => q.id);
    const criteria: CriterionResult[] = [];
    for (const check of named) {
      const places = check.needs?.workspace ? request.workspaces : [first];
      let best: CheckResult | undefined;
      for (const workspace of places) {
        const parts = { cluster, provider: options.provider, answerKey, workspace, answers: request.answers, questions, appliedPolicySha256: request.appliedPolicySha256 };
        const result = await runCheck(check, (signal) => checkContext(parts, signal), { limitMs, signal: request.signal });
        if (!best || result.score > best.score) best = result;
        if (result.passed) break;
      }
      criteria.push(...(best?.criteria ?? []));
    }
    return resultOf(criteria);
  };
}

export type StepGrader = ReturnType<typeof stepGrader>;
