import { afterEach, describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import type { SqlStore as Store } from '../store/sql-store.ts';
import { testStores, type TestBackend } from '../store/store-test-kit.ts';
import { mergeLearner } from './merge.ts';

const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function setup(backend: TestBackend) {
  const store = await backend.open();
  opened.push(store);
  const learners = learnerService({ store });
  const anon = (await learners.create()).learner.id;
  const account = (await learners.create()).learner.id;
  const ended: string[] = [];
  // The lab service's reset, as far as the merge sees it: the run ends (its cluster is given back).
  const endLabRun = async (learner: string, lab: string) => {
    ended.push(`${learner}:${lab}`);
    await store.run("UPDATE lab_runs SET ended_at = '2026-12-07T10:05:00Z', ended_reason = 'reset' WHERE learner_id = ? AND lab = ? AND ended_at IS NULL", [learner, lab]);
  };
  return { store, anon, account, ended, endLabRun };
}

let n = 0;
async function run(store: Store, learner: string, lab: string, ended = false): Promise<string> {
  const id = `run${++n}`;
  await store.run("INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at, ended_at) VALUES (?, ?, ?, 'c', 'embedded', 's', '2026-12-07T10:00:00Z', ?)", [id, learner, lab, ended ? '2026-12-07T10:01:00Z' : null]);
  await store.run("INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria) VALUES (?, 'one', '2026-12-07T10:00:30Z', 1, 1, '[]')", [id]);
  await store.run("INSERT INTO lab_notes (run_id, text, updated_at) VALUES (?, 'my notes', '2026-12-07T10:00:40Z')", [id]);
  return id;
}
async function attempt(store: Store, learner: string, quiz: string, submitted: boolean): Promise<string> {
  const id = `att${++n}`;
  await store.run("INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at, submitted_at, earned, max) VALUES (?, ?, ?, 'h', 's', '[]', '2026-12-07T10:00:00Z', ?, ?, ?)", [id, learner, quiz, submitted ? '2026-12-07T10:02:00Z' : null, submitted ? 1 : null, submitted ? 2 : null]);
  return id;
}
async function drill(store: Store, id: string): Promise<void> {
  await store.run("INSERT INTO drills (id, code, title, scenario, roles, duration_ms, facilitator_sha256, state, created_at, seed, cluster_status) VALUES (?, ?, 't', 's', '[]', 1, 'x', 'lobby', '2026-12-07T10:00:00Z', 's', 'none')", [id, id]);
}
const ownerOf = async (store: Store, table: string, id: string) => ((await store.get(`SELECT learner_id FROM ${table} WHERE id = ?`, [id])) as { learner_id: string }).learner_id;

describe.each(testStores())('merging an anonymous learner into an account on $name', (backend) => {
  it('moves lab runs (results and notes with them), quiz attempts and drill places', async () => {
    const { store, anon, account, endLabRun, ended } = await setup(backend);
    const going = await run(store, anon, 'l18');
    const old = await run(store, anon, 'l02', true);
    const submitted = await attempt(store, anon, 'q1', true);
    const open = await attempt(store, anon, 'q2', false);
    await drill(store, 'd1');
    await store.run("INSERT INTO drill_participants (id, drill_id, learner_id, name, role, joined_at) VALUES ('p1', 'd1', ?, 'Ana', 'responder', 'now')", [anon]);

    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(report).toEqual({ labRunsMoved: 2, quizAttemptsMoved: 2, drillsMoved: 1, notes: [] });
    expect(ended).toEqual([]);
    for (const id of [going, old]) expect(await ownerOf(store, 'lab_runs', id)).toBe(account);
    for (const id of [submitted, open]) expect(await ownerOf(store, 'quiz_attempts', id)).toBe(account);
    expect(await ownerOf(store, 'drill_participants', 'p1')).toBe(account);
    // Results and notes hang off the run: they came along untouched.
    expect(await store.get('SELECT COUNT(*) AS n FROM lab_results WHERE run_id IN (?, ?)', [going, old])).toEqual({ n: 2 });
    // A second merge finds nothing left.
    expect(await mergeLearner({ store, endLabRun }, anon, account)).toEqual({ labRunsMoved: 0, quizAttemptsMoved: 0, drillsMoved: 0, notes: [] });
  });

  it('a lab running on both: the anonymous run is ended through the lab service, then moved ended; the account\'s goes on', async () => {
    const { store, anon, account, endLabRun, ended } = await setup(backend);
    const mine = await run(store, account, 'l18');
    const theirs = await run(store, anon, 'l18');
    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(ended).toEqual([`${anon}:l18`]);
    expect(report.labRunsMoved).toBe(1);
    expect(report.notes).toEqual([expect.stringMatching(/^Lab l18 was running in this browser and in your account/)]);
    expect(await ownerOf(store, 'lab_runs', theirs)).toBe(account);
    const active = await store.all('SELECT id FROM lab_runs WHERE learner_id = ? AND lab = ? AND ended_at IS NULL', [account, 'l18']);
    expect(active).toEqual([{ id: mine }]);
  });

  it('a lab run that cannot be ended is not merged, and the learner is told', async () => {
    const { store, anon, account } = await setup(backend);
    await run(store, account, 'l18');
    const theirs = await run(store, anon, 'l18');
    const report = await mergeLearner({ store, endLabRun: async () => Promise.reject(new Error('cluster gone astray')) }, anon, account);
    expect(report.labRunsMoved).toBe(0);
    expect(report.notes).toEqual([expect.stringMatching(/^Lab l18 runs in this browser and in your account, and this browser's run could not be ended: it was not merged/)]);
    expect(await ownerOf(store, 'lab_runs', theirs)).toBe(anon);
  });

  it('quizzes: submitted attempts always move (limits count per account); an open attempt on both keeps the account\'s', async () => {
    const { store, anon, account, endLabRun } = await setup(backend);
    const accountOpen = await attempt(store, account, 'q1', false);
    const anonOpen = await attempt(store, anon, 'q1', false);
    const anonDone = await attempt(store, anon, 'q1', true);
    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(report.quizAttemptsMoved).toBe(1);
    expect(report.notes).toEqual([expect.stringMatching(/^Quiz q1 had an open attempt in this browser and in your account/)]);
    expect(await ownerOf(store, 'quiz_attempts', anonDone)).toBe(account);
    expect(await ownerOf(store, 'quiz_attempts', anonOpen)).toBe(anon);
    expect(await ownerOf(store, 'quiz_attempts', accountOpen)).toBe(account);
    expect(await store.get("SELECT COUNT(*) AS n FROM quiz_attempts WHERE learner_id = ? AND quiz = 'q1' AND submitted_at IS NOT NULL", [account])).toEqual({ n: 1 });
  });

  it('a drill both joined keeps the account\'s place; merging a learner into itself changes nothing', async () => {
    const { store, anon, account, endLabRun } = await setup(backend);
    await drill(store, 'd1');
    await store.run("INSERT INTO drill_participants (id, drill_id, learner_id, name, role, joined_at) VALUES ('p1', 'd1', ?, 'Ana', 'responder', 'now'), ('p2', 'd1', ?, 'Ana B', 'responder', 'now')", [account, anon]);
    const report = await mergeLearner({ store, endLabRun }, anon, account);
    expect(report.drillsMoved).toBe(0);
    expect(report.notes).toEqual([expect.stringMatching(/^1 drill joined in this browser and in your account/)]);
    expect(await ownerOf(store, 'drill_participants', 'p2')).toBe(anon);
    const lab = await run(store, account, 'l18');
    expect(await mergeLearner({ store, endLabRun }, account, account)).toEqual({ labRunsMoved: 0, quizAttemptsMoved: 0, drillsMoved: 0, notes: [] });
    expect(await ownerOf(store, 'lab_runs', lab)).toBe(account);
  });
});
