/**
 * Labs as a learner lives them: start (a cluster of one's own, seeded with one's own incident),
 * check a step, take a hint, answer questions, reset. Progress is in SQLite and survives
 * restarts; answer keys stay on the server; checks run with a time limit.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brandStatus } from '../../lib/error-status.ts';
import type { LabEngine } from '../../lib/lab-engine.ts';
import type { LabNext, LabView, StepView } from '../../lib/lab-view.ts';
import { learnerAccessOf, type AuditPolicyRejectedError, type ClusterInfo } from '../cluster/types.ts';
import { loadPolicy } from '../../lib/audit-policy/validate.ts';
import { refusalMessage } from '../../lib/audit-policy/check.ts';
import { excerpt } from '../../lib/excerpt.ts';
import { POLICY_FILE } from './checks/audit-policy.ts';
import { readWorkspaceFile, sha256 } from './workspace-files.ts';
import type { Store } from '../store/database.ts';
import { answerKeyDir } from '../scenarios/answer-key.ts';
import { loadScenario } from '../scenarios/load.ts';
import { seedScenario } from '../scenarios/seed.ts';
import { waitingTimeScale } from '../scenarios/timeline.ts';
import { stepGrader } from '../grading/grade.ts';
import { stepStanding, stepView } from './step-view.ts';
import type { LearningEvents } from '../learners/learning-events.ts';
import type { LoadedLab } from './labs.ts';
import type { ClusterSource } from './cluster-source.ts';
import { IncidentShelf, type PreparedIncident } from './incident-shelf.ts';
import { DEFAULT_TIME_LIMIT, extendedDeadline, firstDeadline, timeView, type RunTimeLimit } from './run-clock.ts';
import { carryNotes, completionOf, notesProblem, readNotes, writeNotes, type NotesRecord } from './run-records.ts';
import { collectNodeEvidence, planNodeEvidence, type NodeEvidenceView } from './lab-node-evidence.ts';
import { listWorkspace, viewWorkspaceFile, type WorkspaceFileView, type WorkspaceListing } from './workspace-listing.ts';

export type { ClusterSource } from './cluster-source.ts';

const activityOf = (lab: LoadedLab) => ({ kind: 'lab', slug: lab.slug, title: lab.lab.title }) as const;

export interface LabServiceOptions {
  store: Store;
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

interface RunRow {
  id: string;
  learner_id: string;
  lab: string;
  cluster: string;
  provider: string;
  seed: string;
  started_at: string;
  applied_policy_sha256: string | null;
  recovered_at?: string | null;
  recovered_from?: string | null;
  recovered_reason?: string | null;
  expires_at?: string | null;
  ended_at?: string | null;
  ended_reason?: string | null;
}

/** One lab run as the progress page lists it. */
export interface LabRunSummary {
  lab: string;
  title: string;
  startedAt: string;
  /** Absent while the run (and its cluster) is still going. */
  endedAt: string | undefined;
  steps: Array<{ id: string; title: string; state: 'done' | 'not yet' | 'not checked'; score: number }>;
  /** Mean of the step scores, 0 to 1. */
  score: number;
}

export class LabError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'LabError';
    this.status = status;
    brandStatus(this, status);
  }
}

export function labService(options: LabServiceOptions) {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const keys = options.answerKeys ?? answerKeyDir();
  const starting = new Map<string, Promise<RunRow>>();
  // Seeding waits out minutes of dwell time: close() stops every seed, reset() the learner's own.
  const closing = new AbortController();
  const seedingFor = new Map<string, AbortController>();
  const limit = options.timeLimit ?? DEFAULT_TIME_LIMIT;
  const deadlineOf = (run: RunRow) => run.expires_at ?? firstDeadline(run.started_at, limit);
  const grade = stepGrader({ provider: options.clusters.provider, answerKeys: keys, checkTimeoutMs: options.checkTimeoutMs });

  async function labOf(slug: string): Promise<LoadedLab> {
    const lab = (await options.labs()).find((l) => l.slug === slug);
    if (!lab) throw new LabError(`no lab "${slug}"`, 404);
    return lab;
  }

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
    const ended = store.prepare('UPDATE lab_runs SET ended_at = ?, ended_reason = ? WHERE id = ? AND ended_at IS NULL').run(at, reason, run.id);
    if (Number(ended.changes) === 0) return;
    if (reason === 'expired') console.log(`irlab: lab ${run.lab}: a run reached its time limit at ${at}; cluster ${run.cluster} given back, progress kept`);
    try {
      await options.clusters.release(run.cluster);
    } finally {
      await Promise.resolve(options.onRunEnded?.(run.learner_id, reason)).catch((error: unknown) => console.error(`irlab: after a lab run ended: ${String(error)}`));
    }
  }

  /** The run itself, unless its time is up: then it is ended (cluster given back in the background). */
  function live(run: RunRow | undefined): RunRow | undefined {
    if (!run) return undefined;
    const deadline = deadlineOf(run);
    if (Date.parse(deadline) > now().getTime()) return run;
    endRun(run, 'expired', deadline).catch((error: unknown) => console.error(`irlab: giving back cluster ${run.cluster} of an expired run failed: ${error instanceof Error ? error.message : String(error)}`));
    return undefined;
  }

  function activeRun(learnerId: string, slug: string): RunRow | undefined {
    return live(
      store
        .prepare('SELECT * FROM lab_runs WHERE learner_id = ? AND lab = ? AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1')
        .get(learnerId, slug) as RunRow | undefined,
    );
  }

  /** The learner's newest run of the lab, going or ended (its notes outlive it). */
  function latestRun(learnerId: string, slug: string): RunRow | undefined {
    return store.prepare('SELECT * FROM lab_runs WHERE learner_id = ? AND lab = ? ORDER BY started_at DESC, rowid DESC LIMIT 1').get(learnerId, slug) as RunRow | undefined;
  }

  const recovering = new Map<string, Promise<ClusterInfo>>();

  /**
   * The run's cluster. One this process no longer holds (a restart reaped it, the watchdog gave
   * it up, it was deleted) is replaced by a freshly seeded one: the run keeps its id, so steps
   * done stay done; the seed and answer key are new, so open steps are graded against the new
   * incident. `run` is updated in place; concurrent lookups share one replacement.
   */
  async function clusterOf(run: RunRow): Promise<ClusterInfo> {
    const found = await options.clusters.find(run.cluster);
    if (found) return found;
    let pending = recovering.get(run.id);
    if (!pending) {
      pending = replaceCluster(run).finally(() => recovering.delete(run.id));
      recovering.set(run.id, pending);
    }
    const cluster = await pending;
    Object.assign(run, store.prepare('SELECT * FROM lab_runs WHERE id = ?').get(run.id) as unknown as RunRow);
    return cluster;
  }

  async function replaceCluster(run: RunRow): Promise<ClusterInfo> {
    const lost = run.cluster;
    const started = Date.now();
    let incident: PreparedIncident;
    try {
      incident = await incidentFor(run.learner_id, await labOf(run.lab), () => {});
    } catch (error) {
      throw new LabError(`your lab cluster ${lost} is gone and a new one could not be made: ${error instanceof Error ? error.message : String(error)}; try again in a minute, or press Reset`, 503);
    }
    // Still on disk: an earlier server process's (this one never handed it out). Gone: deleted,
    // reaped after a crash, or given up by the watchdog as beyond repair.
    const leftBehind = (await options.clusters.provider.list().catch(() => [])).some((c) => c.name === lost);
    const reason = leftBehind ? 'the server restarted' : 'it stopped working or the server restarted';
    // Only while the run still points at the lost cluster: a Reset meanwhile ended it.
    const changed = store
      .prepare('UPDATE lab_runs SET cluster = ?, provider = ?, seed = ?, applied_policy_sha256 = NULL, recovered_at = ?, recovered_from = ?, recovered_reason = ? WHERE id = ? AND cluster = ? AND ended_at IS NULL')
      .run(incident.cluster.name, incident.cluster.provider, incident.seed, now().toISOString(), lost, reason, run.id, lost);
    if (Number(changed.changes) === 0) {
      await options.clusters.release(incident.cluster.name);
      throw new LabError('this lab run ended while its cluster was being replaced; start the lab again', 409);
    }
    // Whatever is left of the lost cluster (a crashed server's, still running) goes.
    await options.clusters.release(lost).catch(() => undefined);
    console.log(`irlab: lab ${run.lab}: cluster ${lost} was gone; replaced by ${incident.cluster.name} with a new incident in ${((Date.now() - started) / 1000).toFixed(1)} s, progress kept`);
    return incident.cluster;
  }

  async function seedIncident(lab: LoadedLab, onProgress: (m: string) => void, signal: AbortSignal = closing.signal, timeScale = options.scenarioTimeScale): Promise<PreparedIncident> {
    const { loaded, problems } = await loadScenario(options.root, `scenarios/${lab.lab.scenario}`);
    if (!loaded) throw new LabError(`the lab's scenario is invalid: ${problems[0]?.message ?? 'unknown problem'}`, 500);
    const cluster = await options.clusters.acquire(onProgress);
    try {
      const seed = randomBytes(8).toString('hex');
      onProgress('seeding the incident into your cluster');
      await seedScenario(cluster, loaded, { seed, answerKeys: keys, signal, ...(timeScale !== undefined ? { timeScale } : {}) });
      const learnerAccess = learnerAccessOf(options.clusters.provider);
      if (learnerAccess) {
        onProgress('giving you your own credential on the cluster');
        // On the same object the cluster source hands out again (find), so every later lease sees it.
        cluster.learnerKubeconfigPath = await learnerAccess(cluster.name, signal);
      }
      return { cluster, seed };
    } catch (error) {
      await options.clusters.release(cluster.name);
      throw error;
    }
  }

  const shelf = new IncidentShelf({
    perLab: options.preparedPerLab ?? 0,
    prepare: async (slug) => {
      const started = Date.now();
      const incident = await seedIncident(await labOf(slug), () => {});
      console.log(`irlab: lab ${slug}: incident seeded ahead of time on ${incident.cluster.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return incident;
    },
    discard: (incident) => options.clusters.release(incident.cluster.name),
    // A seed cut short by shutdown is no failure worth a log line.
    onError: (slug, error) => closing.signal.aborted || console.error(`irlab: preparing an incident for lab ${slug} failed: ${error instanceof Error ? error.message : String(error)}`),
  });

  /** An incident of `lab` for this learner: one seeded ahead of time if any, else seeded now. */
  async function incidentFor(learnerId: string, lab: LoadedLab, onProgress: (m: string) => void): Promise<PreparedIncident> {
    const shelved = shelf.take(lab.slug);
    let incident: PreparedIncident | undefined;
    if (shelved) {
      onProgress('opening an incident seeded for you ahead of time');
      incident = await shelved.catch(() => undefined);
    }
    if (!incident) {
      const mine = new AbortController();
      const id = `${learnerId}\u0000${lab.slug}`;
      seedingFor.set(id, mine);
      try {
        // The learner is waiting: the incident unfolds at the waiting scale (seconds, not minutes).
        const waiting = Math.min(options.waitingTimeScale ?? waitingTimeScale(), options.scenarioTimeScale ?? Infinity);
        incident = await seedIncident(lab, onProgress, AbortSignal.any([closing.signal, mine.signal]), waiting);
      } finally {
        if (seedingFor.get(id) === mine) seedingFor.delete(id);
      }
    }
    return incident;
  }

  async function createRun(learnerId: string, lab: LoadedLab, onProgress: (m: string) => void): Promise<RunRow> {
    mustRunHere(lab);
    const { cluster, seed } = await incidentFor(learnerId, lab, onProgress);
    try {
      await mkdir(options.workspaceOf(learnerId), { recursive: true, mode: 0o700 });
      const previous = latestRun(learnerId, lab.slug);
      const startedAt = now().toISOString();
      const expiresAt = firstDeadline(startedAt, limit);
      const run: RunRow = { id: randomBytes(12).toString('base64url'), learner_id: learnerId, lab: lab.slug, cluster: cluster.name, provider: cluster.provider, seed, started_at: startedAt, applied_policy_sha256: null, expires_at: expiresAt };
      store
        .prepare('INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(run.id, run.learner_id, run.lab, run.cluster, run.provider, run.seed, run.started_at, expiresAt);
      carryNotes(store, previous?.id, run.id, startedAt);
      await options.events?.emit({ type: 'launched', learnerId, activity: activityOf(lab), runId: run.id, at: startedAt });
      return run;
    } catch (error) {
      await options.clusters.release(cluster.name);
      throw error;
    }
  }

  /** A step passed for the first time: `passed`, and `completed` when it was the last one open. */
  async function announcePassed(run: RunRow, lab: LoadedLab, step: LoadedLab['lab']['steps'][number], at: string): Promise<void> {
    if (!options.events) return;
    const standings = lab.lab.steps.map((s) => stepStanding(store, run, s));
    const raw = standings.reduce((sum, s) => sum + s.score, 0);
    const score = { scaled: raw / standings.length, raw, max: standings.length };
    const base = { learnerId: run.learner_id, activity: activityOf(lab), runId: run.id, at };
    await options.events.emit({ ...base, type: 'passed', step: { id: step.id, title: step.title }, score });
    if (standings.every((s) => s.passed)) await options.events.emit({ ...base, type: 'completed', score, success: true });
  }

  function runScore(run: RunRow, lab: LoadedLab): number {
    return lab.lab.steps.reduce((sum, step) => sum + stepStanding(store, run, step).score, 0) / lab.lab.steps.length;
  }

  async function view(learnerId: string, slug: string): Promise<LabView> {
    const lab = await labOf(slug);
    const run = activeRun(learnerId, slug);
    // A run whose cluster is gone gets its new one before the learner looks (and is told below).
    if (run) await clusterOf(run).catch(() => undefined);
    const steps = await Promise.all(lab.lab.steps.map((step) => stepView(store, options.renderMarkdown, run, step)));
    const last = run ? undefined : latestRun(learnerId, slug);
    const completion = run ? completionOf(store, run, lab.lab.steps.map((s) => s.id)) : undefined;
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
      ...(last?.ended_reason === 'expired' && last.ended_at ? { expired: { at: last.ended_at, score: runScore(last, lab) } } : {}),
      ...(completion ? { completion } : {}),
      ...(next ? { next } : {}),
      score: steps.reduce((sum, s) => sum + s.score, 0) / steps.length,
    };
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
    /** The learner's running lab, or a new one (concurrent starts share one). */
    async start(learnerId: string, slug: string, onProgress: (m: string) => void = () => {}): Promise<LabView> {
      const lab = await labOf(slug);
      if (!activeRun(learnerId, slug)) {
        const key = `${learnerId}/${slug}`;
        let pending = starting.get(key);
        if (!pending) {
          pending = createRun(learnerId, lab, onProgress).finally(() => starting.delete(key));
          starting.set(key, pending);
        }
        await pending;
      }
      return view(learnerId, slug);
    },

    async check(learnerId: string, slug: string, stepId: string, answers: Record<string, string>): Promise<StepView> {
      const lab = await labOf(slug);
      const step = lab.lab.steps.find((s) => s.id === stepId);
      if (!step) throw new LabError(`no step "${stepId}" in lab ${slug}`, 404);
      const run = activeRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first', 409);
      const cluster = await clusterOf(run);
      const at = now().toISOString();
      // Priced before the check runs, as the panel showed it before the press.
      const { nextCheckCost: retryCost, passed: passedBefore } = stepStanding(store, run, step);
      const upsert = store.prepare('INSERT INTO lab_answers (run_id, question, answer, answered_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, question) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at');
      const given: Record<string, string> = {};
      for (const question of step.questions) {
        const answer = String(answers[question.id] ?? '').slice(0, 2000);
        given[question.id] = answer;
        upsert.run(run.id, question.id, answer, at);
      }
      const result = await grade({
        cluster,
        step,
        workspaces: [options.workspaceOf(learnerId)],
        answers: given,
        appliedPolicySha256: run.applied_policy_sha256 ?? undefined,
        signal: closing.signal,
      });
      store
        .prepare('INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria, retry_cost) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(run.id, step.id, at, result.passed ? 1 : 0, result.score, JSON.stringify(result.criteria), retryCost);
      if (result.passed && !passedBefore) await announcePassed(run, lab, step, at);
      return stepView(store, options.renderMarkdown, run, step);
    },

    async hint(learnerId: string, slug: string, stepId: string, index: number): Promise<StepView> {
      const lab = await labOf(slug);
      const step = lab.lab.steps.find((s) => s.id === stepId);
      if (!step || !Number.isInteger(index) || !step.hints[index]) throw new LabError(`no hint ${index} in step ${stepId}`, 404);
      const run = activeRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first', 409);
      store.prepare('INSERT OR IGNORE INTO lab_hints (run_id, step, hint, taken_at) VALUES (?, ?, ?, ?)').run(run.id, step.id, index, now().toISOString());
      return stepView(store, options.renderMarkdown, run, step);
    },

    /**
     * Restarts the run's API server with the learner's audit-policy.yaml. A policy the API
     * server refuses is reported with its own message, and the old policy stays in force.
     */
    async applyPolicy(learnerId: string, slug: string): Promise<LabView> {
      const run = activeRun(learnerId, slug);
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
      store.prepare('UPDATE lab_runs SET applied_policy_sha256 = ? WHERE id = ?').run(sha256(file.content), run.id);
      return view(learnerId, slug);
    },

    /**
     * Ends the run and deletes its cluster; the next start seeds a fresh one (a new run: its
     * steps start open; this run's score stays on the progress page, its notes go to the next run).
     */
    async reset(learnerId: string, slug: string): Promise<LabView> {
      seedingFor.get(`${learnerId}\u0000${slug}`)?.abort(new Error('the lab was reset'));
      const run = activeRun(learnerId, slug);
      if (run) await endRun(run, 'reset', now().toISOString());
      return view(learnerId, slug);
    },

    /** Moves the run's deadline by the extension step, never past the run's maximum length. */
    async extend(learnerId: string, slug: string): Promise<LabView> {
      const run = activeRun(learnerId, slug);
      if (!run) throw new LabError('this lab is not running: start it first', 409);
      const deadline = extendedDeadline(run.started_at, deadlineOf(run), limit);
      if (!deadline) {
        throw new LabError(`this run is at its maximum length of ${limit.maxMinutes} minutes and ends at ${new Date(deadlineOf(run)).toISOString().slice(11, 16)} UTC: it cannot be extended further; keep your evidence in your workspace and your notes, they outlive the run`, 409);
      }
      store.prepare('UPDATE lab_runs SET expires_at = ? WHERE id = ? AND ended_at IS NULL').run(deadline, run.id);
      return view(learnerId, slug);
    },

    /**
     * Ends every run past its deadline and gives its cluster back (the server calls it on a
     * timer; every access checks too). Returns how many ended.
     */
    async sweepExpired(): Promise<number> {
      const open = store.prepare('SELECT * FROM lab_runs WHERE ended_at IS NULL').all() as unknown as RunRow[];
      const due = open.filter((run) => Date.parse(deadlineOf(run)) <= now().getTime());
      const results = await Promise.allSettled(due.map((run) => endRun(run, 'expired', deadlineOf(run))));
      for (const result of results) if (result.status === 'rejected') console.error(`irlab: giving back the cluster of an expired run failed: ${String(result.reason)}`);
      return due.length;
    },

    /** The learner's case notes of their newest run of the lab (going or ended). */
    notes(learnerId: string, slug: string): NotesRecord {
      const run = latestRun(learnerId, slug);
      return run ? readNotes(store, run.id) : { text: '' };
    },

    /** Saves the learner's case notes with their newest run of the lab. */
    saveNotes(learnerId: string, slug: string, text: unknown): NotesRecord {
      const problem = notesProblem(text);
      if (problem) throw new LabError(problem, 413);
      const run = latestRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first: notes are kept with a run of the lab', 409);
      return writeNotes(store, run.id, text as string, now().toISOString());
    },

    /** Collects node evidence from the run's kind node into the learner's workspace (lab-node-evidence.ts). */
    async nodeEvidence(learnerId: string, slug: string, request: { collection: unknown; args: unknown }): Promise<NodeEvidenceView> {
      planNodeEvidence(request);
      const run = activeRun(learnerId, slug);
      if (!run) throw new LabError('start the lab first', 409);
      return collectNodeEvidence(await clusterOf(run), options.workspaceOf(learnerId), request, closing.signal);
    },

    /** The files of the learner's workspace (read without following anything they control). */
    files: (learnerId: string): Promise<WorkspaceListing> => listWorkspace(options.workspaceOf(learnerId)),
    file: (learnerId: string, relative: string): Promise<WorkspaceFileView> => viewWorkspaceFile(options.workspaceOf(learnerId), relative),

    /** Every run of this learner, newest first: each step's state and score (the progress page). */
    async progress(learnerId: string): Promise<LabRunSummary[]> {
      const labs = await options.labs();
      const runs = store.prepare('SELECT * FROM lab_runs WHERE learner_id = ? ORDER BY started_at DESC').all(learnerId) as unknown as Array<RunRow & { ended_at: string | null }>;
      return runs.flatMap((run) => {
        const lab = labs.find((l) => l.slug === run.lab);
        if (!lab) return [];
        const steps = lab.lab.steps.map((step) => {
          const { results, score, passed } = stepStanding(store, run, step);
          return { id: step.id, title: step.title, state: passed ? 'done' : results.length ? 'not yet' : 'not checked', score } as const;
        });
        return [{ lab: lab.slug, title: lab.lab.title, startedAt: run.started_at, endedAt: run.ended_at ?? undefined, steps, score: steps.reduce((sum, s) => sum + s.score, 0) / steps.length }];
      });
    },

    /** Where the terminal's shell for this learner should point, if they have a running lab. */
    async clusterFor(learnerId: string): Promise<ClusterInfo | undefined> {
      const run = live(
        store.prepare('SELECT * FROM lab_runs WHERE learner_id = ? AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1').get(learnerId) as RunRow | undefined,
      );
      // A lab learner's shell is on their lab's cluster or on none: never on another engine's.
      return run ? clusterOf(run) : undefined;
    },
  };
}

export type LabService = ReturnType<typeof labService>;

export function workspaceUnder(dataDir: string) {
  return (learnerId: string) => path.join(dataDir, 'workspaces', learnerId);
}
