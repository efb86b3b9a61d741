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
import type { SqlQueries, SqlStore } from '../store/sql-store.ts';

export interface MergeDeps {
  store: SqlStore;
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

const activeLabs = async (q: SqlQueries, learnerId: string) =>
  new Set((await q.all<{ lab: string }>('SELECT DISTINCT lab FROM lab_runs WHERE learner_id = ? AND ended_at IS NULL', [learnerId])).map((r) => r.lab));

/** `column IN (?, ?...)` for `values`, or a condition no row meets when there are none (SQL has no empty IN list). */
const among = (column: string, values: readonly string[]) => (values.length ? `${column} IN (${values.map(() => '?').join(', ')})` : '1 = 0');

/** Moves everything of `from` (anonymous) to `into` (the account). Safe to call twice. */
export async function mergeLearner({ store, endLabRun }: MergeDeps, from: string, into: string): Promise<MergeReport> {
  const notes: string[] = [];
  if (from === into) return { labRunsMoved: 0, quizAttemptsMoved: 0, drillsMoved: 0, notes };

  // Labs running on both sides: the anonymous run ends first (its cluster goes back to the pool).
  const accountLabs = await activeLabs(store, into);
  for (const lab of await activeLabs(store, from)) {
    if (!accountLabs.has(lab)) continue;
    try {
      await endLabRun(from, lab);
      notes.push(`Lab ${lab} was running in this browser and in your account: your account's run goes on; this browser's run was ended (its results are kept in your progress).`);
    } catch {
      // Still running: the transaction below leaves it with the anonymous learner and says so.
    }
  }

  return store.transaction(async (tx) => {
    // Checked again inside the transaction: a run started meanwhile is not moved beside another.
    const intoLabs = await activeLabs(tx, into);
    const stillBoth = [...(await activeLabs(tx, from))].filter((lab) => intoLabs.has(lab));
    const labs = await tx.run(`UPDATE lab_runs SET learner_id = ? WHERE learner_id = ? AND NOT (ended_at IS NULL AND ${among('lab', stillBoth)})`, [into, from, ...stillBoth]);
    for (const lab of stillBoth) notes.push(`Lab ${lab} runs in this browser and in your account, and this browser's run could not be ended: it was not merged, your account's run is the one you continue.`);

    const openQuizzes = (await tx.all<{ quiz: string }>('SELECT DISTINCT quiz FROM quiz_attempts WHERE learner_id = ? AND submitted_at IS NULL', [into])).map((r) => r.quiz);
    const kept = (await tx.all<{ quiz: string }>(`SELECT DISTINCT quiz FROM quiz_attempts WHERE learner_id = ? AND submitted_at IS NULL AND ${among('quiz', openQuizzes)}`, [from, ...openQuizzes])).map((r) => r.quiz);
    const quizzes = await tx.run(`UPDATE quiz_attempts SET learner_id = ? WHERE learner_id = ? AND NOT (submitted_at IS NULL AND ${among('quiz', openQuizzes)})`, [into, from, ...openQuizzes]);
    for (const quiz of kept) notes.push(`Quiz ${quiz} had an open attempt in this browser and in your account: your account's attempt is the one you continue.`);

    const drills = await tx.run('UPDATE drill_participants SET learner_id = ? WHERE learner_id = ? AND drill_id NOT IN (SELECT drill_id FROM drill_participants WHERE learner_id = ?)', [into, from, into]);
    const apart = (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM drill_participants WHERE learner_id = ?', [from]))!.n;
    if (apart) notes.push(`${apart} drill${apart === 1 ? '' : 's'} joined in this browser and in your account: your account's place in ${apart === 1 ? 'it' : 'them'} stays.`);

    return { labRunsMoved: labs.changes, quizAttemptsMoved: quizzes.changes, drillsMoved: drills.changes, notes };
  });
}
