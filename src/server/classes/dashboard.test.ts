import { describe, expect, it } from 'vitest';
import type { LoadedLab } from '../lab/labs.ts';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { stepStanding } from '../lab/step-view.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { classService } from './classes.ts';
import { classDashboard, type DashboardSources } from './dashboard.ts';

const step = (id: string) => ({ id, title: `Step ${id}`, hints: [{ text: 'look', cost: 0.1 }], questions: [], checks: [] });
const lab = { slug: 'l18', file: 'labs/l18/lab.yaml', lab: { title: 'L18', steps: [step('s1'), step('s2'), step('s3')] } } as unknown as LoadedLab;
const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const open = openedPerTest();

async function setup(backend: TestBackend) {
  const store = await open(backend);
  const learners = learnerService({ store });
  const classes = classService({ store, learners, identities: identityService({ store }) });
  const klass = await classes.create('Group A', 'operator');
  await classes.assign(klass.id, 'lab', 'l18', '2026-12-08T17:00:00.000Z');
  await classes.assign(klass.id, 'quiz', 'q1', undefined);
  await classes.assign(klass.id, 'lab', 'gone-from-catalog', undefined);
  const join = async (name: string) => (await classes.join({ code: klass.joinCode, name, current: undefined })).learnerId;
  const sources = (minutes: number, live = new Set<string>()): DashboardSources => ({
    store,
    standing: (run, step) => stepStanding(store, run, step),
    classes,
    labs: [lab],
    quizzes: [{ slug: 'q1', data: { title: 'Quiz one' } } as never],
    now: new Date(T0 + minutes * 60_000),
    publicUrl: 'http://irlab.test',
    liveTerminal: (id) => live.has(id),
  });
  return { store, classes, klass, join, sources };
}

async function run(store: SqlStore, learner: string, id: string, startedMinutes: number) {
  await store.run("INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at) VALUES (?, ?, 'l18', 'c', 'embedded', 's', ?)", [id, learner, at(startedMinutes)]);
}
async function check(store: SqlStore, runId: string, stepId: string, minutes: number, passed: boolean) {
  await store.run("INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria) VALUES (?, ?, ?, ?, ?, '[]')", [runId, stepId, at(minutes), passed ? 1 : 0, passed ? 1 : 0]);
}

describe.each(testStores())('the class dashboard on $name', (backend) => {
  it('reports per step status, score, minutes, hints and checks; quizzes by their latest submitted attempt', async () => {
    const { store, klass, join, sources, classes } = await setup(backend);
    const ana = await join('Ana');
    const bob = await join('Bob');
    await run(store, ana, 'run-a', 0);
    await check(store, 'run-a', 's1', 2, false);
    await check(store, 'run-a', 's1', 4, true);
    await store.run("INSERT INTO lab_hints (run_id, step, hint, taken_at) VALUES ('run-a', 's2', 0, ?)", [at(5)]);
    await check(store, 'run-a', 's2', 7, false);
    await store.run("INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at, submitted_at, earned, max) VALUES ('qa1', ?, 'q1', 'h', 's', '[]', ?, ?, 3, 4)", [ana, at(1), at(2)]);
    await store.run("INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at) VALUES ('qb1', ?, 'q1', 'h', 's', '[]', ?)", [bob, at(1)]);

    const view = await classDashboard((await classes.get(klass.id))!, sources(9, new Set([ana])));
    expect(view.assignments.map((a) => a.slug)).toEqual(['l18', 'q1']); // one no longer in the catalog is left out
    expect(view.class.joinUrl).toBe(`http://irlab.test/classes/join/${klass.joinCode}`);
    const [a, b] = view.learners;
    expect(a!.name).toBe('Ana');
    expect(a!.watchable).toBe(true);
    expect(a!.labs[0]!.steps).toEqual([
      { step: 's1', title: 'Step s1', status: 'passed', scorePercent: 100, minutes: 4, hints: 0, checks: 2 },
      { step: 's2', title: 'Step s2', status: 'failing', scorePercent: 0, minutes: 5, hints: 1, checks: 1 },
      { step: 's3', title: 'Step s3', status: 'not started', scorePercent: 0, minutes: 5, hints: 0, checks: 0 },
    ]);
    expect(a!.labs[0]!.running).toBe(true);
    expect(a!.quizzes).toEqual([{ slug: 'q1', title: 'Quiz one', dueAt: undefined, status: 'submitted', scorePercent: 75 }]);
    expect(b!.labs[0]!.steps.every((s) => s.status === 'not started' && s.minutes === 0)).toBe(true);
    expect(b!.quizzes[0]).toMatchObject({ status: 'in progress', scorePercent: null });
    expect(b!.watchable).toBe(false);
  });

  it('flags a learner stuck once their failing current step passes the threshold, on the injected clock', async () => {
    const { store, klass, join, sources, classes } = await setup(backend);
    const ana = await join('Ana');
    const bob = await join('Bob');
    await classes.setStuckAfter(klass.id, 600);
    await run(store, ana, 'run-a', 0);
    await check(store, 'run-a', 's1', 1, true);
    await check(store, 'run-a', 's2', 3, false);
    // Bob has been on step 1 just as long but has not checked it: not stuck (nothing failed yet).
    await run(store, bob, 'run-b', 0);
    const stuckAt = async (minutes: number) => (await classDashboard((await classes.get(klass.id))!, sources(minutes))).learners.map((l) => l.stuck);
    expect(await stuckAt(10)).toEqual([null, null]); // on step 2 since minute 1: 9 minutes
    expect(await stuckAt(11)).toEqual([{ lab: 'l18', step: 's2', stepTitle: 'Step s2', minutes: 10 }, null]);
    // A passing check of the step clears it; a later failing one on the next step starts afresh.
    await check(store, 'run-a', 's2', 12, true);
    await check(store, 'run-a', 's3', 13, false);
    expect(await stuckAt(21)).toEqual([null, null]);
    expect((await stuckAt(22))[0]).toMatchObject({ step: 's3', minutes: 10 });
    // An ended run is nobody's current work.
    await store.run("UPDATE lab_runs SET ended_at = ? WHERE id = 'run-a'", [at(23)]);
    expect(await stuckAt(30)).toEqual([null, null]);
  });
});
