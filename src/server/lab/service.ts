/**
 * Labs as a learner lives them: start (a cluster of one's own, seeded with one's own incident),
 * check a step, take a hint, answer questions, reset. Progress is in the store (SQLite or
 * PostgreSQL, lab-runs.ts) and survives restarts; answer keys stay on the server; checks run with
 * a time limit. Where a run's cluster comes from is run-incidents.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabEngine } from '../../lib/lab-engine.ts';
import type { LabNext, LabView, StepView } from '../../lib/lab-view.ts';
import type { LabStep } from '../../schemas/lab.ts';
import type { AuditPolicyRejectedError, ClusterInfo } from '../cluster/types.ts';
import { loadPolicy } from '../../lib/audit-policy/validate.ts';
import { refusalMessage } from '../../lib/audit-policy/check.ts';
import { excerpt } from '../../lib/excerpt.ts';
import { POLICY_FILE } from './checks/audit-policy.ts';
import { readWorkspaceFile, sha256 } from './workspace-files.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { answerKeyDir } from '../scenarios/answer-key.ts';
import { stepGrader } from '../grading/grade.ts';
import { stepStanding, stepView } from './step-view.ts';
import type { LearningEvents } from '../learners/learning-events.ts';
import type { LoadedLab } from './labs.ts';
import type { ClusterSource } from './cluster-source.ts';
import { goingRun, goingRuns, goingRunsOf, insertRun, latestRun, markEnded, newestGoingRun, recordCheck, saveAnswers, type RunRow } from './lab-runs.ts';
import { runSummaries, type LabRunSummary } from './lab-progress.ts';
import { LabError } from './lab-error.ts';
import { runIncidents } from './run-incidents.ts';
import { DEFAULT_TIME_LIMIT, extendedDeadline, firstDeadline, timeView, type RunTimeLimit } from './run-clock.ts';
import { completionOf, notesProblem, readNotes, writeNotes, type NotesRecord } from './run-records.ts';
import { collectNodeEvidence, planNodeEvidence, type NodeEvidenceView } from './lab-node-evidence.ts';
import { listWorkspace, viewWorkspaceFile, type WorkspaceFileView, type WorkspaceListing } from './workspace-listing.ts';

export { LabError } from './lab-error.ts';
export type { LabRunSummary } from './lab-progress.ts';
export type { ClusterSource } from './cluster-source.ts';

const activityOf = (lab: LoadedLab) => ({ kind: 'lab', slug: lab.slug, title: lab.lab.title }) as const;

export interface LabServiceOptions {
  /** Where runs, checks, hints, answers and notes are kept (SQLite or PostgreSQL). */
  db: SqlStore;
  root: string;
  labs: () => Promise<LoadedLab[]>;
  clusters: ClusterSource;
  /** The engine these clusters run on (built once by the composition root): each lab's fit. */
  engine: LabEngine;
  /** The learner's workspace: their shell's home, where evidence files land. */
  workspaceOf: (learnerId: string) => string;
  answerKeys?: string;
  renderMarkdown: (markdown: string) => Promise<string>;
  now?: () => Date;
  checkTimeoutMs?: number;
  /** Incidents each lab keeps seeded ahead of time, so Start waits for no seeding (0: none). */
  preparedPerLab?: number;
  /** How much of a scenario timeline's pauses seeding really waits (default
   * IRLAB_SCENARIO_TIME_SCALE, else 1: an incident spread over minutes takes minutes). */
  scenarioTimeScale?: number;
  /** The scale of a seeding a learner waits for (no incident was ready): default
   * IRLAB_SCENARIO_WAITING_TIME_SCALE (0.02), never slower than scenarioTimeScale. */
  waitingTimeScale?: number;
  /** How long a run lasts, what Extend adds, its maximum (default DEFAULT_TIME_LIMIT). */
  timeLimit?: RunTimeLimit;
  /** What comes after a lab (its lesson, quiz, another lab), for the completion screen. */
  nextOf?: (lab: LoadedLab) => Promise<LabNext | undefined>;
  /** Told when a run ends (reset or time up), after its cluster was given back: the shell on it goes. */
  onRunEnded?: (learnerId: string, reason: 'reset' | 'expired') => void | Promise<void>;
  /** Told of runs launched, steps passed and labs completed (xAPI, LTI grades, dashboards). */
  events?: LearningEvents;
}

/** NUL has no meaning in a learner's text and PostgreSQL's TEXT cannot hold it (a query with one fails). */
const withoutNul = (text: string) => text.replaceAll('\u0000', '');

export function labService(options: LabServiceOptions) {
  const { db: store } = options;
  const now = options.now ?? (() => new Date());
  const keys = options.answerKeys ?? answerKeyDir();
  const starting = new Map<string, Promise<unknown>>();
  // Seeding waits out minutes of dwell time: close() stops every seed, reset() the learner's own.
  const closing = new AbortController();
  const limit = options.timeLimit ?? DEFAULT_TIME_LIMIT;
  const deadlineOf = (run: RunRow) => run.expires_at ?? firstDeadline(run.started_at, limit);
  const grade = stepGrader({ provider: options.clusters.provider, answerKeys: keys, checkTimeoutMs: options.checkTimeoutMs });

  async function labOf(slug: string): Promise<LoadedLab> {
    const lab = (await options.labs()).find((l) => l.slug === slug);
    if (!lab) throw new LabError(`no lab "${slug}"`, 404);
    return lab;
  }

  const incidents = runIncidents({
    store,
    root: options.root,
    clusters: options.clusters,
    answerKeys: keys,
    labOf,
    now,
    closing: closing.signal,
    ...(options.preparedPerLab !== undefined ? { preparedPerLab: options.preparedPerLab } : {}),
    ...(options.scenarioTimeScale !== undefined ? { scenarioTimeScale: options.scenarioTimeScale } : {}),
    ...(options.waitingTimeScale !== undefined ? { waitingTimeScale: options.waitingTimeScale } : {}),
  });
  const { clusterOf, shelf } = incidents;

  /** Refuses a lab this engine cannot run (a `kind` lab on the embedded pool) before any cluster is claimed. */
  function mustRunHere(lab: LoadedLab): void {
    const { unavailable } = options.engine.fit(lab.lab.engine);
    if (unavailable) throw new LabError(`the lab "${lab.slug}" cannot start on this server: it ${unavailable.reason}. Choose another lab on /labs; an operator: ${unavailable.operator}`, 409);
  }

  /**
   * Ends a run (once: a concurrent end finds it ended) and gives its cluster back. A run past its
   * deadline ends at its deadline, whenever it is noticed.
   */
  async function endRun(run: RunRow, reason: 'reset' | 'expired', at: string): Promise<void> {
    if (await markEnded(store, run.id, reason, at)) await afterEnd(run, reason, at);
  }

  async function afterEnd(run: RunRow, reason: 'reset' | 'expired', at: string): Promise<void> {
    if (reason === 'expired') console.log(`irlab: lab ${run.lab}: a run reached its time limit at ${at}; cluster ${run.cluster} given back, progress kept`);
    try {
      await options.clusters.release(run.cluster);
    } finally {
      await Promise.resolve(options.onRunEnded?.(run.learner_id, reason)).catch((error: unknown) => console.error(`irlab: after a lab run ended: ${String(error)}`));
    }
  }

  /**
   * The run itself, unless its time is up: then it is ended, in the store before this returns (so
   * what the caller reads next shows it ended), its cluster given back in the background.
   */
  async function live(run: RunRow | undefined): Promise<RunRow | undefined> {
    if (!run) return undefined;
    const deadline = deadlineOf(run);
    if (Date.parse(deadline) > now().getTime()) return run;
    if (await markEnded(store, run.id, 'expired', deadline)) {
      afterEnd(run, 'expired', deadline).catch((error: unknown) => console.error(`irlab: giving back cluster ${run.cluster} of an expired run failed: ${error instanceof Error ? error.message : String(error)}`));
    }
    return undefined;
  }

  /** Whether `slug` names a lab: a request's slug is learner input, checked before it reaches a query. */
  const isLab = async (slug: string) => (await options.labs()).some((l) => l.slug === slug);

  async function activeRun(learnerId: string, slug: string): Promise<RunRow | undefined> {
    if (!(await isLab(slug))) return undefined;
    return live(await goingRun(store, learnerId, slug));
  }

  async function createRun(learnerId: string, lab: LoadedLab, onProgress: (m: string) => void): Promise<void> {
    mustRunHere(lab);
    const { cluster, seed } = await incidents.incidentFor(learnerId, lab, onProgress);
    let kept = false;
    try {
      await mkdir(options.workspaceOf(learnerId), { recursive: true, mode: 0o700 });
      const startedAt = now().toISOString();
      const expiresAt = firstDeadline(startedAt, limit);
      const run = await insertRun(store, { id: randomBytes(12).toString('base64url'), learner_id: learnerId, lab: lab.slug, cluster: cluster.name, provider: cluster.provider, seed, started_at: startedAt, applied_policy_sha256: null, expires_at: expiresAt });
      // Undefined: another Start (another request, or another front) made the run first; it is the learner's.
      if (!run) return;
      kept = true;
      await options.events?.emit({ type: 'launched', learnerId, activity: activityOf(lab), runId: run.id, at: startedAt });
    } finally {
      if (!kept) await options.clusters.release(cluster.name);
    }
  }

  /** A step passed for the first time: `passed`, and `completed` when it was the last one open. */
  async function announcePassed(run: RunRow, lab: LoadedLab, step: LabStep, at: string, completed: boolean): Promise<void> {
    if (!options.events) return;
    const standings = await Promise.all(lab.lab.steps.map((s) => stepStanding(store, run, s)));
    const raw = standings.reduce((sum, s) => sum + s.score, 0);
    const score = { scaled: raw / standings.length, raw, max: standings.length };
    const base = { learnerId: run.learner_id, activity: activityOf(lab), runId: run.id, at };
    await options.events.emit({ ...base, type: 'passed', step: { id: step.id, title: step.title }, score });
    // Decided in the check's transaction: of two checks passing the last two steps at once, one completes.
    if (completed) await options.events.emit({ ...base, type: 'completed', score, success: true });
  }

  async function runScore(run: RunRow, lab: LoadedLab): Promise<number> {
    const standings = await Promise.all(lab.lab.steps.map((step) => stepStanding(store, run, step)));
    return standings.reduce((sum, s) => sum + s.score, 0) / lab.lab.steps.length;
  }

  async function view(learnerId: string, slug: string): Promise<LabView> {
    const lab = await labOf(slug);
    const run = await activeRun(learnerId, slug);
    // A run whose cluster is gone gets its new one before the learner looks (and is told below).
    if (run) await clusterOf(run).catch(() => undefined);
    const steps = await Promise.all(lab.lab.steps.map((step) => stepView(store, options.renderMarkdown, run, step)));
    const last = run ? undefined : await latestRun(store, learnerId, slug);
    const completion = run ? await completionOf(store, run, lab.lab.steps.map((s) => s.id)) : undefined;
    const next = await options.nextOf?.(lab);
    return {
      slug,
      title: lab.lab.title,
      summary: lab.lab.summary,
      engine: options.engine.fit(lab.lab.engine),
      steps,
      ...(run
        ? {
            run: {
              cluster: run.cluster,
              provider: run.provider,
              startedAt: run.started_at,
              ...(run.recovered_at && run.recovered_from ? { recovered: { at: run.recovered_at, from: run.recovered_from, reason: run.recovered_reason ?? '' } } : {}),
              ...timeView(run.started_at, deadlineOf(run), limit, now()),
            },
          }
        : {}),
      ...(last?.ended_reason === 'expired' && last.ended_at ? { expired: { at: last.ended_at, score: await runScore(last, lab) } } : {}),
      ...(completion ? { completion } : {}),
      ...(next ? { next } : {}),
      score: steps.reduce((sum, s) => sum + s.score, 0) / steps.length,
    };
  }

  /** The lab and step a request names, and the learner's going run of it. */
  async function goingStep(learnerId: string, slug: string, stepId: string) {
    const lab = await labOf(slug);
    const step = lab.lab.steps.find((s) => s.id === stepId);
    if (!step) throw new LabError(`no step "${stepId}" in lab ${slug}`, 404);
    const run = await activeRun(learnerId, slug);
    if (!run) throw new LabError('start the lab first', 409);
    return { lab, step, run };
  }

  return {
    view,
    activeRun,
    /** Seeds `preparedPerLab` incidents of every lab ahead of time (the server calls it at boot). */
    async prepareAll(): Promise<void> {
      // A lab this engine cannot run gets no incident: its Start is refused anyway.
      for (const lab of await options.labs()) if (!options.engine.fit(lab.lab.engine).unavailable) shelf.fill(lab.slug);
    },
    /** Incidents of `slug` ready or being seeded ahead of time. */
    preparedCount: (slug: string) => shelf.count(slug),
    /** Gives back the clusters of incidents nobody took. */
    close: () => {
      closing.abort(new Error('the server is shutting down'));
      return shelf.close();
    },
    /**
     * The learner's running lab, or a new one. Concurrent Starts in this process share one; a
     * Start elsewhere at the same time loses to the store's one-going-run index (insertRun).
     */
    async start(learnerId: string, slug: string, onProgress: (m: string) => void = () => {}): Promise<LabView> {
      const lab = await labOf(slug);
      const key = `${learnerId}\u0000${slug}`;
      // Looked up before any await: a Start that finished while this one read the store would be gone from the map.
      let pending = starting.get(key);
      if (!pending && !(await activeRun(learnerId, slug))) {
        pending = starting.get(key);
        if (!pending) {
          pending = createRun(learnerId, lab, onProgress).finally(() => starting.delete(key));
          starting.set(key, pending);
        }
      }
      await pending;
      return view(learnerId, slug);
    },

    async check(learnerId: string, slug: string, stepId: string, answers: Record<string, string>): Promise<StepView> {
      const { lab, step, run } = await goingStep(learnerId, slug, stepId);
      const cluster = await clusterOf(run);
      const at = now().toISOString();
      const given: Record<string, string> = {};
      for (const question of step.questions) given[question.id] = withoutNul(String(answers[question.id] ?? '').slice(0, 2000));
      await saveAnswers(store, run.id, given, at);
      const result = await grade({
        cluster,
        step,
        workspaces: [options.workspaceOf(learnerId)],
        answers: given,
        appliedPolicySha256: run.applied_policy_sha256 ?? undefined,
        signal: closing.signal,
      });
      // Priced as the panel showed it before the press, after the checks recorded before this one.
      const recorded = await recordCheck(store, { runId: run.id, step: step.id, answerStep: step.questions.length > 0, stepIds: lab.lab.steps.map((s) => s.id), at, result });
      if (recorded.firstPass) await announcePassed(run, lab, step, at, recorded.completed);
      return stepView(store, options.renderMarkdown, run, step);
    },

    async hint(learnerId: string, slug: string, stepId: string, index: number): Promise<StepView> {
      const lab = await labOf(slug);
      const step = lab.lab.steps.find((s) => s.id === stepId);
      if (!step || !Number.isInteger(index) || !step.hints[index]) throw new LabError(`no hint ${index} in step ${stepId}`, 404);
      const run = await activeRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first', 409);
      await store.run('INSERT INTO lab_hints (run_id, step, hint, taken_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, step, hint) DO NOTHING', [run.id, step.id, index, now().toISOString()]);
      return stepView(store, options.renderMarkdown, run, step);
    },

    /**
     * Restarts the run's API server with the learner's audit-policy.yaml. A policy the API
     * server refuses is reported with its own message, and the old policy stays in force.
     */
    async applyPolicy(learnerId: string, slug: string): Promise<LabView> {
      const run = await activeRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first', 409);
      const cluster = await clusterOf(run);
      const file = await readWorkspaceFile(options.workspaceOf(learnerId), POLICY_FILE);
      if (!file.ok) throw new LabError(`${POLICY_FILE}: ${file.reason}; write your policy in your workspace first`, 422);
      const loaded = loadPolicy(file.content.toString('utf8'));
      if (!loaded.policy) throw new LabError(`the API server would refuse this policy: ${refusalMessage(loaded.errors)}`, 422);
      const copy = path.join(path.dirname(keys), 'applied-policies', `${run.id}.yaml`);
      await mkdir(path.dirname(copy), { recursive: true, mode: 0o700 });
      await writeFile(copy, file.content, { mode: 0o600 });
      try {
        await options.clusters.provider.setAuditPolicy(cluster.name, copy);
      } catch (error) {
        // By name: the provider may come from another copy of the cluster module (see error-status.ts).
        if (error instanceof Error && error.name === 'AuditPolicyRejectedError') {
          throw new LabError(`kube-apiserver refused the policy and kept the old one: ${excerpt((error as AuditPolicyRejectedError).apiServerMessage, 240)}`, 422);
        }
        throw error;
      }
      await store.run('UPDATE lab_runs SET applied_policy_sha256 = ? WHERE id = ?', [sha256(file.content), run.id]);
      return view(learnerId, slug);
    },

    /**
     * Ends the run and deletes its cluster; the next start seeds a fresh one (a new run: its
     * steps start open; this run's score stays on the progress page, its notes go to the next run).
     */
    async reset(learnerId: string, slug: string): Promise<LabView> {
      incidents.stopSeeding(learnerId, slug, new Error('the lab was reset'));
      const run = await activeRun(learnerId, slug);
      if (run) await endRun(run, 'reset', now().toISOString());
      return view(learnerId, slug);
    },

    /** Moves the run's deadline by the extension step, never past the run's maximum length. */
    async extend(learnerId: string, slug: string): Promise<LabView> {
      const run = await activeRun(learnerId, slug);
      if (!run) throw new LabError('this lab is not running: start it first', 409);
      const deadline = extendedDeadline(run.started_at, deadlineOf(run), limit);
      if (!deadline) {
        throw new LabError(`this run is at its maximum length of ${limit.maxMinutes} minutes and ends at ${new Date(deadlineOf(run)).toISOString().slice(11, 16)} UTC: it cannot be extended further; keep your evidence in your workspace and your notes, they outlive the run`, 409);
      }
      // Only from the deadline this request read: two Extends at once move it one step, not two.
      await store.run("UPDATE lab_runs SET expires_at = ? WHERE id = ? AND ended_at IS NULL AND COALESCE(expires_at, '') = ?", [deadline, run.id, run.expires_at ?? '']);
      return view(learnerId, slug);
    },

    /**
     * Ends every run past its deadline and gives its cluster back (the server calls it on a
     * timer; every access checks too). Returns how many ended.
     */
    async sweepExpired(): Promise<number> {
      const due = (await goingRuns(store)).filter((run) => Date.parse(deadlineOf(run)) <= now().getTime());
      const results = await Promise.allSettled(due.map((run) => endRun(run, 'expired', deadlineOf(run))));
      for (const result of results) if (result.status === 'rejected') console.error(`irlab: giving back the cluster of an expired run failed: ${String(result.reason)}`);
      return due.length;
    },

    /** The learner's case notes of their newest run of the lab (going or ended). */
    async notes(learnerId: string, slug: string): Promise<NotesRecord> {
      const run = (await isLab(slug)) ? await latestRun(store, learnerId, slug) : undefined;
      return run ? readNotes(store, run.id) : { text: '' };
    },

    /** Saves the learner's case notes with their newest run of the lab. */
    async saveNotes(learnerId: string, slug: string, text: unknown): Promise<NotesRecord> {
      const problem = notesProblem(text);
      if (problem) throw new LabError(problem, 413);
      const run = await latestRun(store, learnerId, (await labOf(slug)).slug);
      if (!run) throw new LabError('start the lab first: notes are kept with a run of the lab', 409);
      return writeNotes(store, run.id, withoutNul(text as string), now().toISOString());
    },

    /** Collects node evidence from the run's kind node into the learner's workspace (lab-node-evidence.ts). */
    async nodeEvidence(learnerId: string, slug: string, request: { collection: unknown; args: unknown }): Promise<NodeEvidenceView> {
      planNodeEvidence(request);
      const run = await activeRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first', 409);
      return collectNodeEvidence(await clusterOf(run), options.workspaceOf(learnerId), request, closing.signal);
    },

    /** The files of the learner's workspace (read without following anything they control). */
    files: (learnerId: string): Promise<WorkspaceListing> => listWorkspace(options.workspaceOf(learnerId)),
    file: (learnerId: string, relative: string): Promise<WorkspaceFileView> => viewWorkspaceFile(options.workspaceOf(learnerId), relative),

    /** Every run of this learner, newest first: each step's state and score (the progress page). */
    progress: async (learnerId: string): Promise<LabRunSummary[]> => runSummaries(store, await options.labs(), learnerId),

    /** Whether this learner has a lab run going (a cell keeps their slot while they do). */
    /** Which of these learners have a lab run going (one query; a run past its deadline ends here, as `live` ends it). */
    async learnersWithGoingRun(learnerIds: readonly string[]): Promise<Set<string>> {
      const going = new Set<string>();
      for (const run of await goingRunsOf(store, learnerIds)) if (await live(run)) going.add(run.learner_id);
      return going;
    },

    /** Where the terminal's shell for this learner should point, if they have a running lab. */
    async clusterFor(learnerId: string): Promise<ClusterInfo | undefined> {
      const run = await live(await newestGoingRun(store, learnerId));
      // A lab learner's shell is on their lab's cluster or on none: never on another engine's.
      return run ? clusterOf(run) : undefined;
    },
  };
}

export type LabService = ReturnType<typeof labService>;

export function workspaceUnder(dataDir: string) {
  return (learnerId: string) => path.join(dataDir, 'workspaces', learnerId);
}
