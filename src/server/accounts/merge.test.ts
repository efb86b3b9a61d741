import { describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openStore, type Store } from '../store/index.ts';
import { mergeLearner } from './merge.ts';
import { sqliteStore } from '../store/sqlite-store.ts';

async function setup() {
  const store = openStore(':memory:', allMigrations);
  const learners = learnerService({ store: sqliteStore(store) });
  const anon = (await learners.create()).learner.id;
  const account = (await learners.create()).learner.id;
  const ended: string[] = [];
  // The lab service's reset, as far as the merge sees it: the run ends (its cluster is given back).
  const endLabRun = async (learner: string, lab: string) => {
    ended.push(`${learner}:${lab}`);
    store.prepare("UPDATE lab_runs SET ended_at = '2026-12-07T10:05:00Z', ended_reason = 'reset' WHERE learner_id = ? AND lab = ? AND ended_at IS NULL").run(learner, lab);
  };
  return { store, anon, account, ended, endLabRun };
}

let n = 0;
function run(store: Store, learner: string, lab: string, ended = false): string {
  const id = `run${++n}`;
  store
    .prepare("INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at, ended_at) VALUES (?, ?, ?, 'c', 'embedded', 's', '2026-12-07T10:00:00Z', ?)")
    .run(id, learner, lab, ended ? '2026-12-07T10:01:00Z' : null);
  store.prepare("INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria) VALUES (?, 'one', '2026-12-07T10:00:30Z', 1, 1, '[]')").run(id);
  store.prepare("INSERT INTO lab_notes (run_id, text, updated_at) VALUES (?, 'my notes', '2026-12-07T10:00:40Z')").run(id);
  return id;
}
function attempt(store: Store, learner: string, quiz: string, submitted: boolean): string {
  const id = `att${++n}`;
  store
    .prepare("INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at, submitted_at, earned, max) VALUES (?, ?, ?, 'h', 's', '[]', '2026-12-07T10:00:00Z', ?, ?, ?)")
    .run(id, learner, quiz, submitted ? '2026-12-07T10:02:00Z' : null, submitted ? 1 : null, submitted ? 2 : null);
  return id;
}
function drill(store: Store, id: string): void {
  store
    .prepare("INSERT INTO drills (id, code, title, scenario, roles, duration_ms, facilitator_sha256, state, created_at, seed, cluster_status) VALUES (?, ?, 't', 's', '[]', 1, 'x', 'lobby', '2026-12-07T10:00:00Z', 's', 'none')")
    .run(id, id);
}
const ownerOf = (store: Store, table: string, id: string) => (store.prepare(`SELECT learner_id FROM ${table} WHERE id = ?`).get(id) as { learner_id: string }).learner_id;

describe('merging an anonymous learner into an account', () => {
  it('moves lab runs (results and notes with them), quiz attempts and drill places', async () => {
    const { store, anon, account, endLabRun, ended } = await setup();
    const going = run(store, anon, 'l18');
    const old = run(store, anon, 'l02', true);
    const submitted = attempt(store, anon, 'q1', true);
    const open = attempt(store, anon, 'q2', false);
    drill(store, 'd1');
    store.prepare("INSERT INTO drill_participants (id, drill_id, learner_id, name, role, joined_at) VALUES ('p1', 'd1', ?, 'Ana', 'responder', 'now')").run(anon);

    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(report).toEqual({ labRunsMoved: 2, quizAttemptsMoved: 2, drillsMoved: 1, notes: [] });
    expect(ended).toEqual([]);
    for (const id of [going, old]) expect(ownerOf(store, 'lab_runs', id)).toBe(account);
    for (const id of [submitted, open]) expect(ownerOf(store, 'quiz_attempts', id)).toBe(account);
    expect(ownerOf(store, 'drill_participants', 'p1')).toBe(account);
    // Results and notes hang off the run: they came along untouched.
    expect(store.prepare('SELECT COUNT(*) AS n FROM lab_results WHERE run_id IN (?, ?)').get(going, old)).toEqual({ n: 2 });
    // A second merge finds nothing left.
    expect(await mergeLearner({ store, endLabRun }, anon, account)).toEqual({ labRunsMoved: 0, quizAttemptsMoved: 0, drillsMoved: 0, notes: [] });
  });

  it('a lab running on both: the anonymous run is ended through the lab service, then moved ended; the account\'s goes on', async () => {
    const { store, anon, account, endLabRun, ended } = await setup();
    const mine = run(store, account, 'l18');
    const theirs = run(store, anon, 'l18');
    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(ended).toEqual([`${anon}:l18`]);
    expect(report.labRunsMoved).toBe(1);
    expect(report.notes).toEqual([expect.stringMatching(/^Lab l18 was running in this browser and in your account/)]);
    expect(ownerOf(store, 'lab_runs', theirs)).toBe(account);
    const active = store.prepare('SELECT id FROM lab_runs WHERE learner_id = ? AND lab = ? AND ended_at IS NULL').all(account, 'l18');
    expect(active).toEqual([{ id: mine }]);
  });

  it('a lab run that cannot be ended is not merged, and the learner is told', async () => {
    const { store, anon, account } = await setup();
    run(store, account, 'l18');
    const theirs = run(store, anon, 'l18');
    const report = await mergeLearner({ store, endLabRun: async () => Promise.reject(new Error('cluster gone astray')) }, anon, account);
    expect(report.labRunsMoved).toBe(0);
    expect(report.notes).toEqual([expect.stringMatching(/^Lab l18 runs in this browser and in your account, and this browser's run could not be ended: it was not merged/)]);
    expect(ownerOf(store, 'lab_runs', theirs)).toBe(anon);
  });

  it('quizzes: submitted attempts always move (limits count per account); an open attempt on both keeps the account\'s', async () => {
    const { store, anon, account, endLabRun } = await setup();
    const accountOpen = attempt(store, account, 'q1', false);
    const anonOpen = attempt(store, anon, 'q1', false);
    const anonDone = attempt(store, anon, 'q1', true);
    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(report.quizAttemptsMoved).toBe(1);
    expect(report.notes).toEqual([expect.stringMatching(/^Quiz q1 had an open attempt in this browser and in your account/)]);
    expect(ownerOf(store, 'quiz_attempts', anonDone)).toBe(account);
    expect(ownerOf(store, 'quiz_attempts', anonOpen)).toBe(anon);
    expect(ownerOf(store, 'quiz_attempts', accountOpen)).toBe(account);
    expect(store.prepare("SELECT COUNT(*) AS n FROM quiz_attempts WHERE learner_id = ? AND quiz = 'q1' AND submitted_at IS NOT NULL").get(account)).toEqual({ n: 1 });
  });

  it('a drill both joined keeps the account\'s place; merging a learner into itself changes nothing', async () => {
    const { store, anon, account, endLabRun } = await setup();
    drill(store, 'd1');
    store.prepare("INSERT INTO drill_participants (id, drill_id, learner_id, name, role, joined_at) VALUES ('p1', 'd1', ?, 'Ana', 'responder', 'now'), ('p2', 'd1', ?, 'Ana B', 'responder', 'now')").run(account, anon);
    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(report.drillsMoved).toBe(0);
    expect(report.notes).toEqual([expect.stringMatching(/^1 drill joined in this browser and in your account/)]);
    expect(ownerOf(store, 'drill_participants', 'p2')).toBe(anon);
    const lab = run(store, account, 'l18');
    expect(await mergeLearner({ store, endLabRun }, account, account)).toEqual({ labRunsMoved: 0, quizAttemptsMoved: 0, drillsMoved: 0, notes: [] });
    expect(ownerOf(store, 'lab_runs', lab)).toBe(account);
  });
});
