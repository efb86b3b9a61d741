// The L18 lab on a REAL embedded cluster through the lab service: start seeds the learner's own
// incident, checks fail on the untouched world, the reference solution makes them pass, progress
// survives a new service instance (a server restart), and reset gives a fresh cluster.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import type { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import type { LoadedLab } from '../../src/server/lab/labs.ts';
import { workspaceUnder, type LabService } from '../../src/server/lab/service.ts';
import { runSolution } from '../../src/server/lab/solution.ts';
import { readAnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { learnerService } from '../../src/server/learners/learners.ts';
import { LearningEvents, type LearningEvent } from '../../src/server/learners/learning-events.ts';
import type { SqlStore } from '../../src/server/store/index.ts';
import { startL18Lab, type L18Lab } from './fixtures/l18-lab.ts';

let fixture: L18Lab;
let work: string;
let provider: EmbeddedProvider;
let store: SqlStore;
let lab: LoadedLab;
let learner: string;

const service = (extra: { preparedPerLab?: number; events?: LearningEvents } = {}): LabService => fixture.service(extra);

async function solve(stepId: string) {
  const run = (await service().activeRun(learner, 'l18'))!;
  const cluster = (await provider.list()).find((c) => c.name === run.cluster)!;
  const key = await readAnswerKey(path.join(work, 'keys'), cluster.name);
  const step = lab.lab.steps.find((s) => s.id === stepId)!;
  const runs = await runSolution(step.solution, key, {
    workspace: workspaceUnder(work)(learner),
    kubeconfig: cluster.kubeconfigPath,
    binDir: binDir(readEngineVersions()),
    applyPolicy: async () => void (await service().applyPolicy(learner, 'l18')),
  });
  const failed = runs.find((r) => r.exitCode !== 0);
  expect(failed, failed ? `${failed.command}\n${failed.output}` : '').toBeUndefined();
  return key;
}

beforeAll(async () => {
  fixture = await startL18Lab('irlab-lab-it-');
  ({ work, provider, store, lab, learner } = fixture);
}, 180_000);

afterAll(async () => fixture?.close(), 60_000);

describe('the L18 lab', () => {
  it('starts with every check failing on the untouched world', async () => {
    for (const step of lab.lab.steps) {
      const view = await service().check(learner, 'l18', step.id, {});
      expect(view.passed, `${step.id}: ${JSON.stringify(view.result?.criteria)}`).toBe(false);
    }
  });

  it('passes containment after the reference solution, and explains a wrong policy first', async () => {
    const run = (await service().activeRun(learner, 'l18'))!;
    const cluster = (await provider.list()).find((c) => c.name === run.cluster)!;
    const key = await readAnswerKey(path.join(work, 'keys'), cluster.name);
    await runSolution(
      [
        `kubectl label pod ${key.compromisedPod.name} -n production quarantine=true`,
        `kubectl apply -f - <<'YAML'\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: quarantine, namespace: production}\nspec:\n  podSelector: {matchLabels: {quarantined: "true"}}\n  policyTypes: ["Ingress", "Egress"]\nYAML`,
      ],
      key,
      { workspace: workspaceUnder(work)(learner), kubeconfig: cluster.kubeconfigPath, binDir: binDir(readEngineVersions()) },
    );
    const wrong = await service().check(learner, 'l18', 'contain', {});
    expect(wrong.result?.criteria.find((c) => c.id === 'isolated')?.message).toContain('"quarantine" does not apply: it selects pods with quarantined=true');
    await solve('contain');
    const right = await service().check(learner, 'l18', 'contain', {});
    expect(right.result?.criteria.filter((c) => !c.passed)).toEqual([]);
  });

  it('grades the investigation against this learner\'s own answer key', async () => {
    const key = await solve('investigate');
    const step = lab.lab.steps.find((s) => s.id === 'investigate')!;
    const { fillSolution } = await import('../../src/server/lab/solution.ts');
    const answers = Object.fromEntries(Object.entries(step.solutionAnswers).map(([id, text]) => [id, fillSolution(text, key)]));
    const view = await service().check(learner, 'l18', 'investigate', answers);
    expect(view.result?.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(view.answers).toEqual(answers);
  });

  it('grades the audit policy statically and live, once applied', async () => {
    await solve('audit-policy');
    const view = await service().check(learner, 'l18', 'audit-policy', {});
    expect(view.result?.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(view.result?.criteria.map((c) => c.id)).toEqual(expect.arrayContaining(['applied', 'live', 'static-policy-accepted']));
  }, 60_000);

  it('passes eradication after the reference solution', async () => {
    await solve('eradicate');
    const view = await service().check(learner, 'l18', 'eradicate', {});
    expect(view.result?.criteria.filter((c) => !c.passed)).toEqual([]);
  });

  it('keeps progress across a restart and charges for hints', async () => {
    const fresh = service();
    await fresh.hint(learner, 'l18', 'contain', 0);
    const view = await fresh.view(learner, 'l18');
    const contain = view.steps.find((s) => s.id === 'contain')!;
    expect(contain.passed).toBe(true);
    expect(contain.score).toBeCloseTo(0.9);
    expect(contain.hints[0]?.text).toBeTruthy();
    expect(contain.hints[1]?.text).toBeUndefined();
    expect(JSON.stringify(view)).not.toContain('solution');
    const [run] = await fresh.progress(learner);
    expect(run?.endedAt).toBeUndefined();
    expect(run?.steps.find((s) => s.id === 'contain')).toMatchObject({ state: 'done', score: expect.closeTo(0.9) as unknown as number });
  });

  it('reset deletes the cluster; the next start seeds a fresh one', async () => {
    const before = (await service().activeRun(learner, 'l18'))!.cluster;
    await service().reset(learner, 'l18');
    expect((await provider.list()).map((c) => c.name)).not.toContain(before);
    const view = await service().start(learner, 'l18');
    expect(view.run?.cluster).not.toBe(before);
    expect(view.steps.every((s) => !s.result)).toBe(true);
    // The progress page keeps the ended run, newest first.
    const runs = await service().progress(learner);
    expect(runs.map((r) => Boolean(r.endedAt))).toEqual([false, true]);
    expect(runs[0]!.steps.every((s) => s.state === 'not checked')).toBe(true);
    expect(runs[1]!.steps.filter((s) => s.state === 'done').length).toBeGreaterThan(0);
  }, 120_000);

  it('two Starts at the same moment on two fronts (two services on one store) make one run; the other cluster goes back', async () => {
    await service().reset(learner, 'l18');
    const [a, b] = [service(), service()];
    const [viewA, viewB] = await Promise.all([a.start(learner, 'l18'), b.start(learner, 'l18')]);
    expect(viewA.run?.cluster).toBeDefined();
    expect(viewB.run?.cluster).toBe(viewA.run?.cluster);
    const going = await store.all<{ cluster: string }>("SELECT cluster FROM lab_runs WHERE learner_id = ? AND lab = 'l18' AND ended_at IS NULL", [learner]);
    expect(going).toEqual([{ cluster: viewA.run!.cluster }]);
    // The losing Start's freshly seeded cluster was given back, not left running.
    expect((await provider.list()).map((c) => c.name)).toEqual([viewA.run!.cluster]);

    // Three checks of the solved step at the same moment on both fronts: one first pass told.
    const events = new LearningEvents();
    const heard: LearningEvent[] = [];
    events.subscribe((e) => void heard.push(e));
    await solve('contain');
    const [c, d] = [service({ events }), service({ events })];
    const views = await Promise.all([c.check(learner, 'l18', 'contain', {}), d.check(learner, 'l18', 'contain', {}), c.check(learner, 'l18', 'contain', {})]);
    expect(views.map((v) => v.passed)).toEqual([true, true, true]);
    expect(heard.map((e) => e.type)).toEqual(['passed']);
  }, 300_000);
});

describe('incidents seeded ahead of time', () => {
  it('Start hands out an incident seeded before it was pressed, and the shelf refills', async () => {
    const ahead = service({ preparedPerLab: 1 });
    try {
      await ahead.prepareAll();
      expect(ahead.preparedCount('l18')).toBe(1);
      // Wait for the shelved incident's answer key: then it is fully seeded.
      let shelved: string | undefined;
      const deadline = Date.now() + 120_000;
      while (!shelved && Date.now() < deadline) {
        const running = (await service().activeRun(learner, 'l18'))?.cluster;
        for (const { name } of await provider.list()) {
          if (name !== running && (await readAnswerKey(path.join(work, 'keys'), name).then(() => true, () => false))) shelved = name;
        }
        if (!shelved) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(shelved, 'no incident was seeded ahead of time within 120 s').toBeTruthy();

      const second = (await learnerService({ store }).create()).learner.id;
      const progress: string[] = [];
      const view = await ahead.start(second, 'l18', (m) => progress.push(m));
      expect(view.run?.cluster).toBe(shelved);
      expect(progress).toEqual(['opening an incident seeded for you ahead of time']);
      expect((await readAnswerKey(path.join(work, 'keys'), shelved!)).seed).toBe((await ahead.activeRun(second, 'l18'))!.seed);
      expect(ahead.preparedCount('l18')).toBe(1);
    } finally {
      await ahead.close();
    }
  }, 240_000);
});
