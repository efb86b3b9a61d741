/**
 * A learner's lab runs as the store keeps them (lab_runs, and the checks recorded against a run).
 * The writes that must not interleave with another request's are one statement or one
 * transaction each: a run is created only if none of the lab is going (a unique index, so two
 * Starts, on one front or two, make one run), and a check takes its turn on its run's row.
 */
import type { CheckResult } from '../../lib/check-result.ts';
import type { SqlQueries, SqlStore } from '../store/sql-store.ts';
import { carryNotes } from './run-records.ts';
import { nextCheckCost } from './retry-cost.ts';
import { checksOf } from './step-view.ts';

export interface RunRow {
  id: string;
  learner_id: string;
  lab: string;
  cluster: string;
  provider: string;
  seed: string;
  started_at: string;
  applied_policy_sha256: string | null;
  /** The learner's n-th run of this lab (1, 2, ...): what orders their runs. */
  attempt?: number;
  recovered_at?: string | null;
  recovered_from?: string | null;
  recovered_reason?: string | null;
  expires_at?: string | null;
  ended_at?: string | null;
  ended_reason?: string | null;
}

/**
 * Newest first: by start time (an account's runs merged from another learner carry that learner's
 * attempt numbers), the attempt number for runs started in the same millisecond, the id for any left.
 */
const NEWEST_FIRST = 'ORDER BY started_at DESC, attempt DESC, id DESC';

/** The learner's going run of the lab (at most one: lab_runs_one_going). */
export function goingRun(store: SqlQueries, learnerId: string, slug: string): Promise<RunRow | undefined> {
  return store.get<RunRow>(`SELECT * FROM lab_runs WHERE learner_id = ? AND lab = ? AND ended_at IS NULL ${NEWEST_FIRST} LIMIT 1`, [learnerId, slug]);
}

/** The learner's newest run of the lab, going or ended (its notes outlive it). */
export function latestRun(store: SqlQueries, learnerId: string, slug: string): Promise<RunRow | undefined> {
  return store.get<RunRow>(`SELECT * FROM lab_runs WHERE learner_id = ? AND lab = ? ${NEWEST_FIRST} LIMIT 1`, [learnerId, slug]);
}

/** The learner's newest going run of any lab (where their shell points). */
export function newestGoingRun(store: SqlQueries, learnerId: string): Promise<RunRow | undefined> {
  return store.get<RunRow>(`SELECT * FROM lab_runs WHERE learner_id = ? AND ended_at IS NULL ${NEWEST_FIRST} LIMIT 1`, [learnerId]);
}

/** The going runs of these learners, in one query per 500 of them (a cell's heartbeat asks for its whole fill). */
export async function goingRunsOf(store: SqlQueries, learnerIds: readonly string[]): Promise<RunRow[]> {
  const runs: RunRow[] = [];
  for (let i = 0; i < learnerIds.length; i += 500) {
    const chunk = learnerIds.slice(i, i + 500);
    runs.push(...(await store.all<RunRow>(`SELECT * FROM lab_runs WHERE ended_at IS NULL AND learner_id IN (${chunk.map(() => '?').join(', ')})`, chunk)));
  }
  return runs;
}

export const runById = (store: SqlQueries, id: string): Promise<RunRow | undefined> => store.get<RunRow>('SELECT * FROM lab_runs WHERE id = ?', [id]);

export const goingRuns = (store: SqlQueries): Promise<RunRow[]> => store.all<RunRow>('SELECT * FROM lab_runs WHERE ended_at IS NULL');

/** Every run of the learner, newest first (the progress page). */
export const runsOf = (store: SqlQueries, learnerId: string): Promise<RunRow[]> => store.all<RunRow>(`SELECT * FROM lab_runs WHERE learner_id = ? ${NEWEST_FIRST}`, [learnerId]);

/**
 * Stores `run` as the learner's next attempt of its lab, with the notes of their previous run, in
 * one transaction. Undefined (nothing written) when a run of the lab is already going: a
 * concurrent Start made it, and the caller gives its cluster back.
 */
export function insertRun(store: SqlStore, run: RunRow & { expires_at: string }): Promise<RunRow | undefined> {
  return store.transaction(async (tx) => {
    const previous = await latestRun(tx, run.learner_id, run.lab);
    // The WHERE is SQLite's: an INSERT ... SELECT followed by ON CONFLICT needs one to parse.
    const inserted = await tx.get<{ attempt: number }>(
      `INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at, expires_at, attempt)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(attempt), 0) + 1 FROM lab_runs WHERE learner_id = ? AND lab = ?
         ON CONFLICT (learner_id, lab) WHERE ended_at IS NULL DO NOTHING
         RETURNING attempt`,
      [run.id, run.learner_id, run.lab, run.cluster, run.provider, run.seed, run.started_at, run.expires_at, run.learner_id, run.lab],
    );
    if (!inserted) return undefined;
    await carryNotes(tx, previous?.id, run.id, run.started_at);
    return { ...run, attempt: inserted.attempt };
  });
}

/** Ends the run if it is still going; false when another request ended it first. */
export async function markEnded(store: SqlQueries, runId: string, reason: 'reset' | 'expired', at: string): Promise<boolean> {
  const ended = await store.run('UPDATE lab_runs SET ended_at = ?, ended_reason = ? WHERE id = ? AND ended_at IS NULL', [at, reason, runId]);
  return ended.changes > 0;
}

/** Points the run at a fresh cluster, only while it still points at the lost one and goes. */
export async function markRecovered(store: SqlQueries, runId: string, lost: string, fresh: { cluster: string; provider: string; seed: string }, at: string, reason: string): Promise<boolean> {
  const changed = await store.run(
    'UPDATE lab_runs SET cluster = ?, provider = ?, seed = ?, applied_policy_sha256 = NULL, recovered_at = ?, recovered_from = ?, recovered_reason = ? WHERE id = ? AND cluster = ? AND ended_at IS NULL',
    [fresh.cluster, fresh.provider, fresh.seed, at, lost, reason, runId, lost],
  );
  return changed.changes > 0;
}

export interface RecordedCheck {
  /** The first passing check of this step in this run. */
  firstPass: boolean;
  /** ...and with it every step of the lab has passed. */
  completed: boolean;
}

/**
 * Records a check of `step` and the answers it was given, in one transaction. The check first
 * counts itself on the run's row: that row lock makes concurrent checks of one run take turns
 * (PostgreSQL; SQLite runs one transaction at a time), so each is priced after the ones before
 * it and only one of them can be a step's first pass or the run's completion.
 */
export function recordCheck(
  store: SqlStore,
  check: { runId: string; step: string; answerStep: boolean; stepIds: string[]; at: string; result: Pick<CheckResult, 'passed' | 'score' | 'criteria'> },
): Promise<RecordedCheck> {
  const { runId, step, at, result } = check;
  return store.transaction(async (tx) => {
    const counted = await tx.get<{ checks_made: number }>('UPDATE lab_runs SET checks_made = checks_made + 1 WHERE id = ? RETURNING checks_made', [runId]);
    if (!counted) throw new Error(`lab run ${runId} is not in the store`);
    const past = (await checksOf(tx, runId, step)).map((r) => ({ score: r.score, passed: r.passed === 1, retryCost: r.retry_cost }));
    await tx.run('INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria, retry_cost, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      runId,
      step,
      at,
      result.passed ? 1 : 0,
      result.score,
      JSON.stringify(result.criteria),
      nextCheckCost(check.answerStep, past),
      counted.checks_made,
    ]);
    const firstPass = result.passed && !past.some((p) => p.passed);
    if (!firstPass) return { firstPass, completed: false };
    const passed = new Set((await tx.all<{ step: string }>('SELECT DISTINCT step FROM lab_results WHERE run_id = ? AND passed = 1', [runId])).map((r) => r.step));
    return { firstPass, completed: check.stepIds.every((id) => passed.has(id)) };
  });
}

/** Saves the answers given to a step's questions, all or none. */
export function saveAnswers(store: SqlStore, runId: string, answers: Record<string, string>, at: string): Promise<void> {
  return store.transaction(async (tx) => {
    for (const [question, answer] of Object.entries(answers)) {
      await tx.run(
        'INSERT INTO lab_answers (run_id, question, answer, answered_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, question) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at',
        [runId, question, answer, at],
      );
    }
  });
}
