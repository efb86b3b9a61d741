// What the synchronous store serialised for free and the async one interleaves at every await:
// Starts of one learner's lab at the same moment (on one front, or two fronts sharing PostgreSQL)
// make one run, and checks of one run at the same moment record one first pass, one completion,
// each check its own number and its retry price after the checks before it.
import { describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import { migrateStore } from '../store/database.ts';
import { allMigrations } from '../store/migrations.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { goingRun, insertRun, latestRun, markEnded, recordCheck } from './lab-runs.ts';
import { readNotes, writeNotes } from './run-records.ts';

const open = openedPerTest();
const AT = '2026-12-07T09:00:00.000Z';
const failed = { passed: false, score: 0, criteria: [] };
const passed = { passed: true, score: 1, criteria: [] };

/** Two stores on one database where the backend has them (two fronts), else the one store twice. */
async function twoFronts(backend: TestBackend): Promise<[SqlStore, SqlStore, () => Promise<void>]> {
  if (!backend.openTogether) {
    const store = await open(backend);
    return [store, store, async () => {}];
  }
  const [first, second] = await backend.openTogether(2, allMigrations);
  return [first!, second!, async () => {
    await second!.close();
    await first!.close();
  }];
}

const runOf = (learner: string, id: string, cluster = `pool-${id}`) => ({ id, learner_id: learner, lab: 'l18', cluster, provider: 'embedded', seed: '00', started_at: AT, applied_policy_sha256: null, expires_at: '2026-12-07T11:00:00.000Z' });

describe.each(testStores())('lab runs in the store on $name', (backend) => {
  it('makes one run of five Starts at the same moment on two fronts, with the previous run\'s notes', async () => {
    const [a, b, close] = await twoFronts(backend);
    try {
      const learner = (await learnerService({ store: a }).create()).learner.id;
      const first = await insertRun(a, runOf(learner, 'first'));
      await writeNotes(a, first!.id, 'my notes', AT);
      expect(await markEnded(a, first!.id, 'reset', AT)).toBe(true);
      const made = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5'].map((id, i) => insertRun(i % 2 ? b : a, runOf(learner, id))));
      const kept = made.filter((r) => r !== undefined);
      expect(kept).toHaveLength(1);
      const going = await a.all<{ id: string; attempt: number }>('SELECT id, attempt FROM lab_runs WHERE learner_id = ? AND ended_at IS NULL', [learner]);
      expect(going).toEqual([{ id: kept[0]!.id, attempt: 2 }]);
      expect(await readNotes(b, kept[0]!.id)).toEqual({ text: 'my notes', updatedAt: AT });
      // Started in the same millisecond as the one it follows: the attempt number says which is newer.
      expect((await latestRun(b, learner, 'l18'))!.id).toBe(kept[0]!.id);
      expect((await goingRun(b, learner, 'l18'))!.id).toBe(kept[0]!.id);
    } finally {
      await close();
    }
  });

  it('records one first pass of ten passing checks at the same moment, each check with its own number', async () => {
    const [a, b, close] = await twoFronts(backend);
    try {
      const learner = (await learnerService({ store: a }).create()).learner.id;
      const run = (await insertRun(a, runOf(learner, 'run-1')))!;
      const checks = await Promise.all(
        Array.from({ length: 10 }, (_, i) => recordCheck(i % 2 ? b : a, { runId: run.id, step: 'contain', answerStep: false, stepIds: ['contain', 'eradicate'], at: AT, result: passed })),
      );
      expect(checks.filter((c) => c.firstPass)).toHaveLength(1);
      expect(checks.filter((c) => c.completed)).toHaveLength(0);
      const seqs = await a.all<{ seq: number }>('SELECT seq FROM lab_results WHERE run_id = ? ORDER BY seq', [run.id]);
      expect(seqs.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await close();
    }
  });

  it('completes a run once when its last two steps pass at the same moment', async () => {
    const [a, b, close] = await twoFronts(backend);
    try {
      const learner = (await learnerService({ store: a }).create()).learner.id;
      const run = (await insertRun(a, runOf(learner, 'run-1')))!;
      const stepIds = ['contain', 'eradicate', 'recover'];
      await recordCheck(a, { runId: run.id, step: 'contain', answerStep: false, stepIds, at: AT, result: passed });
      for (let round = 0; round < 5; round++) {
        await a.run("DELETE FROM lab_results WHERE run_id = ? AND step <> 'contain'", [run.id]);
        const [x, y] = await Promise.all([
          recordCheck(a, { runId: run.id, step: 'eradicate', answerStep: false, stepIds, at: AT, result: passed }),
          recordCheck(b, { runId: run.id, step: 'recover', answerStep: false, stepIds, at: AT, result: passed }),
        ]);
        expect([x.firstPass, y.firstPass]).toEqual([true, true]);
        expect([x.completed, y.completed].filter(Boolean)).toHaveLength(1);
      }
    } finally {
      await close();
    }
  });

  it('prices checks of an answer step made at the same moment as if one followed the other', async () => {
    const [a, b, close] = await twoFronts(backend);
    try {
      const learner = (await learnerService({ store: a }).create()).learner.id;
      const run = (await insertRun(a, runOf(learner, 'run-1')))!;
      await Promise.all(Array.from({ length: 6 }, (_, i) => recordCheck(i % 2 ? b : a, { runId: run.id, step: 'investigate', answerStep: true, stepIds: ['investigate'], at: AT, result: failed })));
      const costs = await a.all<{ retry_cost: number }>('SELECT retry_cost FROM lab_results WHERE run_id = ? ORDER BY checked_at, seq', [run.id]);
      expect(costs.map((r) => r.retry_cost)).toEqual([0, 0, 0, 0.05, 0.05, 0.05]);
    } finally {
      await close();
    }
  });

  it('orders the runs and checks an older server stored in one millisecond as they were stored, and ends all but the newest going run', async () => {
    const store = await backend.open(allMigrations.filter((m) => !(m.module === 'labs' && m.version >= 7)));
    try {
      const learner = (await learnerService({ store }).create()).learner.id;
      // Stored in id order (SQLite's rowid order), all in one millisecond; two of them still going.
      for (const id of ['run-a', 'run-b', 'run-c']) {
        await store.run("INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at, ended_at) VALUES (?, ?, 'l18', ?, 'embedded', '00', ?, ?)", [id, learner, `pool-${id}`, AT, id === 'run-a' ? AT : null]);
      }
      for (const [step, passed] of [['contain', 0], ['contain', 1], ['eradicate', 0], ['contain', 0]] as const) {
        await store.run("INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria) VALUES ('run-c', ?, ?, ?, ?, '[]')", [step, AT, passed, passed]);
      }
      await migrateStore(store, allMigrations);
      expect(await store.all('SELECT id, attempt, ended_at, ended_reason FROM lab_runs ORDER BY attempt')).toEqual([
        { id: 'run-a', attempt: 1, ended_at: AT, ended_reason: null },
        { id: 'run-b', attempt: 2, ended_at: AT, ended_reason: 'superseded' },
        { id: 'run-c', attempt: 3, ended_at: null, ended_reason: null },
      ]);
      const checks = await store.all<{ step: string; passed: number; seq: number }>("SELECT step, passed, seq FROM lab_results WHERE run_id = 'run-c' ORDER BY seq");
      expect(checks.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
      // SQLite's rows keep the order they were stored in (PostgreSQL never held lab rows before this migration).
      if (backend.name === 'sqlite') expect(checks.map((c) => [c.step, c.passed])).toEqual([['contain', 0], ['contain', 1], ['eradicate', 0], ['contain', 0]]);
      expect((await latestRun(store, learner, 'l18'))!.id).toBe('run-c');
      // The next check of run-c is number 5.
      await recordCheck(store, { runId: 'run-c', step: 'contain', answerStep: false, stepIds: ['contain'], at: AT, result: failed });
      expect(await store.get("SELECT MAX(seq) AS n FROM lab_results WHERE run_id = 'run-c'")).toEqual({ n: 5 });
    } finally {
      await store.close();
    }
  });
});
