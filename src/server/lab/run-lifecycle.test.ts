// A lab run's life on a fake clock: its deadline, Extend up to the maximum, the end at the
// deadline (on access and by the sweep: cluster given back, progress kept), case notes kept with
// the run and carried over a reset, and the completion facts. The cluster source hands out names
// only: nothing here talks to a cluster (tests/e2e/lab-run.spec.ts does, on real ones).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { learnerService } from '../learners/learners.ts';
import type { SqlStore, SqlValue } from '../store/index.ts';
import type { ClusterSource } from './cluster-source.ts';
import { validateProjectLabs, type LoadedLab } from './labs.ts';
import { MAX_NOTES_BYTES } from './run-records.ts';
import { labService, workspaceUnder } from './service.ts';
import { labEngineOn } from '../../lib/lab-engine.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';

let work: string;
let store: SqlStore;
let labs: LoadedLab[];
const open = openedPerTest();

beforeAll(async () => {
  labs = (await validateProjectLabs(process.cwd())).labs;
});
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-run-life-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const T0 = Date.parse('2026-12-07T09:00:00.000Z');
const minutes = (n: number) => n * 60_000;

async function setup(backend: TestBackend, limit = { sessionMinutes: 120, extendMinutes: 30, maxMinutes: 240 }) {
  store = await open(backend);
  let clock = T0;
  const live = new Set<string>();
  const released: string[] = [];
  const ended: Array<[string, string]> = [];
  const clusters: ClusterSource = {
    provider: new EmbeddedProvider({ workDir: path.join(work, 'kwok') }),
    acquire: async () => {
      throw new Error('this test starts no cluster');
    },
    release: async (name) => {
      live.delete(name);
      released.push(name);
    },
    find: async (name) => (live.has(name) ? { name, provider: 'embedded', kubeconfigPath: '', auditLogPath: '', dir: '' } : undefined),
  };
  const service = labService({
    db: store,
    root: process.cwd(),
    labs: async () => labs,
    clusters,
    engine: labEngineOn('embedded'),
    workspaceOf: workspaceUnder(work),
    answerKeys: path.join(work, 'keys'),
    renderMarkdown: async (markdown) => markdown,
    now: () => new Date(clock),
    timeLimit: limit,
    nextOf: async () => ({ lesson: { title: 'L18', href: '/lessons/l18' }, quiz: { title: 'Quiz', href: '/quizzes/q' } }),
    onRunEnded: (learner, reason) => void ended.push([learner, reason]),
  });
  const learner = (await learnerService({ store }).create()).learner.id;
  const addRun = async (id: string, cluster: string, startedAt = new Date(clock).toISOString()) => {
    live.add(cluster);
    await store.run('INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [id, learner, 'l18', cluster, 'embedded', '00', startedAt]);
  };
  return { service, learner, addRun, released, ended, advance: (ms: number) => (clock += ms) };
}

describe.each(testStores())('a lab run on $name', (backend) => {
  describe('the time limit of a lab run', () => {
    it('shows the deadline and what Extend adds; Extend moves it up to the maximum, then says why not', async () => {
      const { service, learner, addRun, advance } = await setup(backend);
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      let view = await service.view(learner, 'l18');
      expect(view.run).toMatchObject({ expiresAt: '2026-12-07T11:00:00.000Z', serverTime: '2026-12-07T09:00:00.000Z', extend: { minutes: 30, minutesLeft: 120, latestExpiresAt: '2026-12-07T13:00:00.000Z', maxMinutes: 240 } });
      advance(minutes(100));
      for (const expected of ['11:30', '12:00', '12:30', '13:00']) {
        view = await service.extend(learner, 'l18');
        expect(view.run!.expiresAt).toBe(`2026-12-07T${expected}:00.000Z`);
      }
      expect(view.run!.extend).toMatchObject({ minutes: 0, minutesLeft: 0 });
      await expect(service.extend(learner, 'l18')).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/maximum length of 240 minutes and ends at 13:00 UTC/) });
    });

    it('caps the last extension at the maximum', async () => {
      const { service, learner, addRun } = await setup(backend, { sessionMinutes: 60, extendMinutes: 45, maxMinutes: 90 });
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      expect((await service.view(learner, 'l18')).run!.extend).toMatchObject({ minutes: 30, minutesLeft: 30 });
      expect((await service.extend(learner, 'l18')).run!.expiresAt).toBe('2026-12-07T10:30:00.000Z');
    });

    it('ends the run at its deadline on the next access: cluster given back, progress kept on the progress page', async () => {
      const { service, learner, addRun, released, ended, advance } = await setup(backend);
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      await store.run('INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria) VALUES (?, ?, ?, 1, 1, ?)', ['run-1', 'contain', new Date(T0 + 1000).toISOString(), '[]']);
      advance(minutes(120) - 1);
      expect((await service.view(learner, 'l18')).run).toBeDefined();
      advance(1);
      const view = await service.view(learner, 'l18');
      expect(view.run).toBeUndefined();
      expect(view.expired).toEqual({ at: '2026-12-07T11:00:00.000Z', score: 1 / labs.find((l) => l.slug === 'l18')!.lab.steps.length });
      await expect(service.clusterFor(learner)).resolves.toBeUndefined();
      await expect.poll(() => released).toEqual(['pool-aaaaaaaaaaaa']);
      await expect.poll(() => ended).toEqual([[learner, 'expired']]);
      const [run] = await service.progress(learner);
      expect(run).toMatchObject({ endedAt: '2026-12-07T11:00:00.000Z', steps: expect.arrayContaining([expect.objectContaining({ id: 'contain', state: 'done' })]) });
      await expect(service.extend(learner, 'l18')).rejects.toMatchObject({ status: 409 });
    });

    it('the sweep ends every run past its deadline, and only those, once', async () => {
      const { service, learner, addRun, released, advance } = await setup(backend);
      await addRun('run-old', 'pool-aaaaaaaaaaaa');
      advance(minutes(60));
      const other = (await learnerService({ store }).create()).learner.id;
      await store.run('INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['run-new', other, 'l18', 'pool-bbbbbbbbbbbb', 'embedded', '00', new Date(T0 + minutes(60)).toISOString()]);
      expect(await service.sweepExpired()).toBe(0);
      advance(minutes(60));
      expect(await service.sweepExpired()).toBe(1);
      expect(released).toEqual(['pool-aaaaaaaaaaaa']);
      expect(await service.sweepExpired()).toBe(0);
      expect(await store.get("SELECT ended_reason FROM lab_runs WHERE id = 'run-old'")).toEqual({ ended_reason: 'expired' });
      expect((await service.view(learner, 'l18')).run).toBeUndefined();
      advance(minutes(60));
      expect(await service.sweepExpired()).toBe(1);
      expect(released).toEqual(['pool-aaaaaaaaaaaa', 'pool-bbbbbbbbbbbb']);
    });

    it('tells which of many learners have a run going in one question, ending those past their deadline (a cell\'s heartbeat)', async () => {
      const { service, learner, addRun, released, advance } = await setup(backend);
      await addRun('run-old', 'pool-aaaaaaaaaaaa');
      advance(minutes(60));
      const other = (await learnerService({ store }).create()).learner.id;
      await store.run('INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['run-new', other, 'l18', 'pool-bbbbbbbbbbbb', 'embedded', '00', new Date(T0 + minutes(60)).toISOString()]);
      const strangers = Array.from({ length: 1_200 }, (_, i) => `lrn_none${i}`);
      expect([...(await service.learnersWithGoingRun([learner, other, ...strangers]))].sort()).toEqual([learner, other].sort());
      advance(minutes(60));
      expect([...(await service.learnersWithGoingRun([...strangers, learner, other]))]).toEqual([other]);
      expect(released).toEqual(['pool-aaaaaaaaaaaa']);
      expect(await service.learnersWithGoingRun([])).toEqual(new Set());
    });

    it('a reset ends the run as a reset, not an expiry', async () => {
      const { service, learner, addRun, released, ended } = await setup(backend);
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      const view = await service.reset(learner, 'l18');
      expect(view.run).toBeUndefined();
      expect(view.expired).toBeUndefined();
      expect(released).toEqual(['pool-aaaaaaaaaaaa']);
      expect(ended).toEqual([[learner, 'reset']]);
    });
  });

  describe('case notes', () => {
    it('are kept with the learner\'s run, refused whole past the cap, and never another learner\'s', async () => {
      const { service, learner, addRun } = await setup(backend);
      await expect(service.saveNotes(learner, 'l18', 'x')).rejects.toThrow(/start the lab first/);
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      // Kept as typed, but for NUL: PostgreSQL's TEXT cannot hold it (the save failed with a 500 there).
      const hostile = '<img src=x onerror=alert(1)>\u001b[31m';
      expect(await service.saveNotes(learner, 'l18', '<img src=x onerror=alert(1)>\u0000\u001b[31m')).toMatchObject({ text: hostile, updatedAt: '2026-12-07T09:00:00.000Z' });
      expect((await service.notes(learner, 'l18')).text).toBe(hostile);
      const other = (await learnerService({ store }).create()).learner.id;
      expect(await service.notes(other, 'l18')).toEqual({ text: '' });
      // A slug is learner input: one with a NUL names no lab (it reached PostgreSQL, and failed, before).
      expect(await service.notes(learner, 'l18\u0000')).toEqual({ text: '' });
      await expect(service.saveNotes(learner, 'l18\u0000', 'x')).rejects.toMatchObject({ status: 404 });
      expect(await service.activeRun(learner, 'l18\u0000')).toBeUndefined();
      await expect(service.saveNotes(learner, 'l18', 'é'.repeat(MAX_NOTES_BYTES / 2 + 1))).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/your case notes are 60 KiB and can hold 60 KiB: nothing was saved/) });
      expect((await service.notes(learner, 'l18')).text).toBe(hostile);
      await expect(service.saveNotes(learner, 'l18', 42)).rejects.toThrow(/must be text/);
    });

    it('outlive the run (readable and writable after it ended)', async () => {
      const { service, learner, addRun, advance } = await setup(backend);
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      await service.saveNotes(learner, 'l18', 'first');
      advance(minutes(121));
      expect((await service.view(learner, 'l18')).run).toBeUndefined();
      expect((await service.notes(learner, 'l18')).text).toBe('first');
      await service.saveNotes(learner, 'l18', 'after the end');
      expect((await service.notes(learner, 'l18')).text).toBe('after the end');
    });
  });

  describe('completion', () => {
    it('appears once every step has passed: time to the last first pass, hints taken, checks pressed; next from the server', async () => {
      const { service, learner, addRun } = await setup(backend);
      await addRun('run-1', 'pool-aaaaaaaaaaaa');
      const steps = labs.find((l) => l.slug === 'l18')!.lab.steps;
      const result = (...values: SqlValue[]) => store.run('INSERT INTO lab_results (run_id, step, checked_at, passed, score, criteria) VALUES (?, ?, ?, ?, ?, ?)', values);
      await result('run-1', steps[0]!.id, new Date(T0 + 1000).toISOString(), 0, 0, '[]');
      for (const [index, step] of steps.entries()) {
        if (index === steps.length - 1) expect((await service.view(learner, 'l18')).completion).toBeUndefined();
        await result('run-1', step.id, new Date(T0 + minutes(10 * (index + 1))).toISOString(), 1, 1, '[]');
      }
      // A later pass of a done step does not move the completion time.
      await result('run-1', steps[0]!.id, new Date(T0 + minutes(500)).toISOString(), 1, 1, '[]');
      await store.run('INSERT INTO lab_hints (run_id, step, hint, taken_at) VALUES (?, ?, 0, ?)', ['run-1', steps[1]!.id, new Date(T0).toISOString()]);
      const view = await service.view(learner, 'l18');
      expect(view.completion).toEqual({ completedAt: new Date(T0 + minutes(10 * steps.length)).toISOString(), seconds: 600 * steps.length, hintsUsed: 1, checks: steps.length + 2 });
      expect(view.next).toEqual({ lesson: { title: 'L18', href: '/lessons/l18' }, quiz: { title: 'Quiz', href: '/quizzes/q' } });
    });
  });
});
