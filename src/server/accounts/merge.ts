/**
 * A learner's anonymous progress, merged into their account when they sign in on a browser that
 * has worked anonymously: lab runs (with their results, hints, answers and notes, which hang off
 * the run), quiz attempts (with their answers) and drill participation move to the account.
 * Conflicts keep the account's side and say what happened to the other:
 * - a lab running on both: the account's run stays; the anonymous one is ended through the lab
 *   service (its cluster given back) and then moved, ended, with its results kept;
 * - a quiz attempt open on both: the account's stays open; the anonymous open attempt stays with
 *   the anonymous learner (it cannot be graded without being submitted, and one open attempt per
 *   quiz is the rule). Submitted attempts always move, so attempt limits count per account;
 * - a drill both joined: the account's participation stays; the anonymous one stays where it is.
 */
import type { Store } from '../store/database.ts';

export interface MergeDeps {
  store: Store;
  /** Ends a learner's running lab and gives its cluster back (the lab service's reset). */
  endLabRun: (learnerId: string, lab: string) => Promise<unknown>;
}

export interface MergeReport {
  labRunsMoved: number;
  quizAttemptsMoved: number;
  drillsMoved: number;
  /** One sentence per conflict, for the learner. */
  notes: string[];
}

const activeLabs = (store: Store, learnerId: string) =>
  new Set((store.prepare('SELECT DISTINCT lab FROM lab_runs WHERE learner_id = ? AND ended_at IS NULL').all(learnerId) as Array<{ lab: string }>).map((r) => r.lab));

/** Moves everything of `from` (anonymous) to `into` (the account). Safe to call twice. */
export async function mergeLearner({ store, endLabRun }: MergeDeps, from: string, into: string): Promise<MergeReport> {
  const notes: string[] = [];
  if (from === into) return { labRunsMoved: 0, quizAttemptsMoved: 0, drillsMoved: 0, notes };

  // Labs running on both sides: the anonymous run ends first (its cluster goes back to the pool).
  const accountLabs = activeLabs(store, into);
  for (const lab of activeLabs(store, from)) {
    if (!accountLabs.has(lab)) continue;
    try {
      await endLabRun(from, lab);
      notes.push(`Lab ${lab} was running in this browser and in your account: your account's run goes on; this browser's run was ended (its results are kept in your progress).`);
    } catch {
      // Still running: the transaction below leaves it with the anonymous learner and says so.
    }
  }

  store.exec('BEGIN IMMEDIATE');
  try {
    // Checked again inside the transaction: a run started meanwhile is not moved beside another.
    const stillBoth = [...activeLabs(store, from)].filter((lab) => activeLabs(store, into).has(lab));
    const labs = store
      .prepare(`UPDATE lab_runs SET learner_id = ? WHERE learner_id = ? AND NOT (ended_at IS NULL AND lab IN (SELECT value FROM json_each(?)))`)
      .run(into, from, JSON.stringify(stillBoth));
    for (const lab of stillBoth) notes.push(`Lab ${lab} runs in this browser and in your account, and this browser's run could not be ended: it was not merged, your account's run is the one you continue.`);

    const openQuizzes = (store.prepare('SELECT DISTINCT quiz FROM quiz_attempts WHERE learner_id = ? AND submitted_at IS NULL').all(into) as Array<{ quiz: string }>).map((r) => r.quiz);
    const kept = (
      store.prepare('SELECT DISTINCT quiz FROM quiz_attempts WHERE learner_id = ? AND submitted_at IS NULL AND quiz IN (SELECT value FROM json_each(?))').all(from, JSON.stringify(openQuizzes)) as Array<{
        quiz: string;
      }>
    ).map((r) => r.quiz);
    const quizzes = store
      .prepare('UPDATE quiz_attempts SET learner_id = ? WHERE learner_id = ? AND NOT (submitted_at IS NULL AND quiz IN (SELECT value FROM json_each(?)))')
      .run(into, from, JSON.stringify(openQuizzes));
    for (const quiz of kept) notes.push(`Quiz ${quiz} had an open attempt in this browser and in your account: your account's attempt is the one you continue.`);

    const drills = store
      .prepare('UPDATE drill_participants SET learner_id = ? WHERE learner_id = ? AND drill_id NOT IN (SELECT drill_id FROM drill_participants WHERE learner_id = ?)')
      .run(into, from, into);
    const apart = (store.prepare('SELECT COUNT(*) AS n FROM drill_participants WHERE learner_id = ?').get(from) as { n: number }).n;
    if (apart) notes.push(`${apart} drill${apart === 1 ? '' : 's'} joined in this browser and in your account: your account's place in ${apart === 1 ? 'it' : 'them'} stays.`);

    store.exec('COMMIT');
    return { labRunsMoved: Number(labs.changes), quizAttemptsMoved: Number(quizzes.changes), drillsMoved: Number(drills.changes), notes };
  } catch (error) {
    store.exec('ROLLBACK');
    throw error;
  }
}
