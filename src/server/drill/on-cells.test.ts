// Drills on fronts and cells, the service's part: a cell runs the clocks, injects and scoreboards
// of the drills placed on it only (`hostedHere`), a drill is made under the id a front placed it
// under, and a drill whose cell was lost ends once with a log entry, its log and scoreboard kept.
import { beforeAll, describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import type { LoadedDrill } from './load.ts';
import { loadDrills } from './project-drills.ts';
import type { DrillRuntime } from './runtime.ts';
import { drillService, newDrillId } from './service.ts';

let drills: LoadedDrill[];
beforeAll(async () => {
  drills = await loadDrills(process.cwd());
});
const open = openedPerTest();

/** A runtime whose every check passes and that counts what it was asked to evaluate. */
function countingRuntime() {
  const evaluated: string[] = [];
  const runtime: DrillRuntime = {
    prepare: async () => 'drill-cluster-1',
    exists: async () => true,
    values: async () => ({ compromisedPodIp: '10.244.0.7' }),
    evaluate: async (_cluster, _drill, step) => (evaluated.push(step), { passed: false, score: 0, criteria: [{ id: step, passed: false, message: 'not yet' }] }),
    attack: async () => [],
    participantKubeconfig: async () => '/dev/null',
    auditEvents: async () => [],
    auditLogPath: async () => '/dev/null',
    answerKey: async () => Promise.reject(new Error('no answer key in this test')),
    release: async () => {},
  };
  return { runtime, evaluated };
}

describe.each(testStores())('drills on cells ($name)', (backend: TestBackend) => {
  it('runs the timers of hosted drills only, makes a drill under a placed id, and ends a lost cell\'s drill once', async () => {
    const store = await open(backend);
    let clock = Date.parse('2026-12-08T10:00:00Z');
    const { runtime, evaluated } = countingRuntime();
    const here = new Set<string>();
    const service = drillService({ store, drills: async () => drills, runtime, now: () => clock, hostedHere: async () => here });
    const input = { scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Scribe'] };

    const placedId = newDrillId();
    const mine = await service.create({ ...input, id: placedId });
    expect(mine.drill.id).toBe(placedId);
    await expect(service.create({ ...input, id: '../x' })).rejects.toThrow(/not one a front draws/);
    const elsewhere = await service.create(input);
    for (const d of [mine, elsewhere]) {
      await service.prepared(d.drill.id);
      await service.control(d.drill.id, { facilitatorToken: d.facilitatorToken }, 'start');
    }
    here.add(placedId);
    // Past the 1-minute inject (the T+0 one fired on start, where the start was handled).
    clock += 61_000;
    await service.tick();
    await service.score();
    const fired = async (id: string, token: string) => (await service.view(id, { facilitatorToken: token })).log.filter((e) => e.kind === 'inject').map((e) => e.title);
    // The clock's inject fired for the hosted drill only; only its scoreboard was evaluated.
    expect(await fired(placedId, mine.facilitatorToken)).toEqual(['Incident declared', 'SOC alert: secret enumeration from a pod IP']);
    expect(await fired(elsewhere.drill.id, elsewhere.facilitatorToken)).toEqual(['Incident declared']);
    expect(evaluated.length).toBe(drills.find((d) => d.slug === 'compromised-web-app')!.drill.scoreboard.length);

    // Its cell is lost: ended once (two fronts noticing at once), with an entry; log and scoreboard kept.
    const learners = learnerService({ store });
    const ana = (await learners.create()).learner.id;
    await service.join(mine.drill.code, ana, 'Ana', 'Scribe');
    await service.post(placedId, { learnerId: ana }, 'note', 'the pod is quarantined');
    await Promise.all([service.lostCell(placedId), service.lostCell(placedId)]);
    await service.lostCell(placedId);
    const after = await service.view(placedId, { facilitatorToken: mine.facilitatorToken });
    expect(after.state).toBe('ended');
    expect(after.cluster.status).toBe('failed');
    expect(after.log.filter((e) => e.title === 'Drill ended: its server stopped')).toHaveLength(1);
    expect(after.log.map((e) => e.title)).toContain('the pod is quarantined');
    expect(after.scoreboard.every((row) => row.criteria.length > 0)).toBe(true);
    expect((await service.report(placedId)).scoreboard.length).toBe(after.scoreboard.length);
  });
});
