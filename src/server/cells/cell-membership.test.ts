import { describe, expect, it } from 'vitest';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { cellMembership, frontUpkeep, type Timers } from './cell-membership.ts';
import { cellRegistry } from './registry.ts';

const open = openedPerTest();

/** Timers the test fires by hand. */
function handTimers() {
  const live = new Map<number, () => void>();
  let next = 0;
  const timers: Timers = {
    setInterval: (run) => (live.set(++next, run), next),
    clearInterval: (handle) => void live.delete(handle as number),
  };
  return { timers, fire: () => [...live.values()].forEach((run) => run()), count: () => live.size };
}

const until = async (probe: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await probe()); i++) await new Promise((resolve) => setImmediate(resolve));
};

describe.each(testStores())('a cell\'s membership on $name', (backend: TestBackend) => {
  it('registers, heartbeats on its timer, comes back after being given up, drains and leaves', async () => {
    const store = await open(backend);
    const time = { now: Date.parse('2026-12-07T10:00:00Z') };
    const registry = cellRegistry({ store, clock: () => new Date(time.now), placeWithinMs: 3_000, expireAfterMs: 9_000 });
    const cellTimers = handTimers();
    const frontTimers = handTimers();
    const lines: string[] = [];
    const member = cellMembership({ registry, cell: { id: 'cell-a', url: 'http://127.0.0.1:1', capacity: 2 }, heartbeatMs: 1_000, timers: cellTimers.timers, log: (l) => lines.push(l), error: (l) => lines.push(l) });
    const upkeep = frontUpkeep({ registry, everyMs: 1_000, timers: frontTimers.timers, now: () => time.now, log: (l) => lines.push(l) });
    expect(await member.start()).toBe('live');
    await upkeep.expire(); // the front watches from here
    expect(cellTimers.count()).toBe(1);

    // Heartbeats keep it placeable; without them it is not placed on, then given up by a front.
    time.now += 2_500;
    cellTimers.fire();
    await until(async () => (await registry.cells())[0]!.heartbeatAt === time.now);
    expect((await registry.place('lrn_1', 'lrn_1')).cellId).toBe('cell-a');
    // The front's upkeep beats every second; the cell stays silent.
    for (let i = 0; i < 10; i++) {
      time.now += 1_000;
      await upkeep.expire();
    }
    expect((await registry.placementOf('lrn_1'))?.lost).toBe(true);
    expect(lines.join('\n')).toMatch(/cell-a stopped heartbeating.*1 learner placement/);
    // Its next heartbeat finds it gone: it registers again, free.
    expect(await member.beat()).toBe('live');
    expect((await registry.cells())[0]).toMatchObject({ state: 'live', used: 0 });

    // Drain: no new placements; leave: gone, its learners' placements lost, its timer stopped.
    expect((await registry.place('lrn_2', 'lrn_2')).cellId).toBe('cell-a');
    await member.drain();
    await expect(registry.place('lrn_3', 'lrn_3')).rejects.toThrow(/no live cell/);
    expect(await member.leave()).toBe(1);
    expect(cellTimers.count()).toBe(0);
    expect((await registry.cells())[0]!.state).toBe('gone');
    upkeep.stop();
    expect(frontTimers.count()).toBe(0);
  });

  it('gives an idle learner\'s slot back on a heartbeat, once the placement is old enough; a busy one keeps theirs', async () => {
    const store = await open(backend);
    const time = { now: Date.parse('2026-12-07T10:00:00Z') };
    const registry = cellRegistry({ store, clock: () => new Date(time.now), placeWithinMs: 3_000, expireAfterMs: 9_000 });
    const busy = new Set(['lrn_busy']);
    const member = cellMembership({
      registry, cell: { id: 'cell-a', url: 'http://127.0.0.1:1', capacity: 2 }, heartbeatMs: 1_000, timers: handTimers().timers,
      log: () => undefined, idle: async (learner) => !busy.has(learner), releaseAfterMs: 60_000, now: () => time.now,
    });
    await member.start();
    await registry.place('lrn_busy', 'lrn_busy');
    await registry.place('lrn_done', 'lrn_done');
    // Full: a third learner has nowhere to go.
    await expect(registry.place('lrn_new', 'lrn_new')).rejects.toThrow();
    // Too young to give back (a Start may be on its way to the cell).
    await member.beat();
    expect((await registry.placementsOn('cell-a')).map((p) => p.learnerId).sort()).toEqual(['lrn_busy', 'lrn_done']);
    time.now += 61_000;
    await member.beat();
    expect((await registry.placementsOn('cell-a')).map((p) => p.learnerId)).toEqual(['lrn_busy']);
    expect((await registry.place('lrn_new', 'lrn_new')).cellId).toBe('cell-a');
  });

  it('loses nothing to a database outage longer than the expiry window: silence counts only while a front could watch', async () => {
    const store = await open(backend);
    const time = { now: Date.parse('2026-12-07T10:00:00Z') };
    const registry = cellRegistry({ store, clock: () => new Date(time.now), placeWithinMs: 3_000, expireAfterMs: 9_000 });
    const lines: string[] = [];
    const upkeep = frontUpkeep({ registry, everyMs: 1_000, timers: handTimers().timers, now: () => time.now, log: (l) => lines.push(l) });
    await registry.register({ id: 'cell-a', url: 'http://127.0.0.1:1', capacity: 2 });
    const placed = await registry.place('lrn_1', 'lrn_1');
    await registry.register({ id: 'cell-dead', url: 'http://127.0.0.1:2', capacity: 2 });
    await upkeep.expire();
    // PostgreSQL is down for 30 s: no heartbeat and no upkeep reaches it (the front's beats fail).
    time.now += 30_000;
    // It is back: the front's first upkeep finds every cell silent for 30 s, and gives none up.
    await upkeep.expire();
    expect(await registry.expire({ watchedSince: time.now })).toEqual({ cells: [], lost: 0 });
    expect(lines.join('\n')).toMatch(/out of sight for 30 s/);
    expect((await registry.placementOf(placed.runId))?.lost).toBe(false);
    // cell-a heartbeats again within the window; cell-dead never does and is given up after it.
    for (let i = 0; i < 10; i++) {
      time.now += 1_000;
      await registry.heartbeat('cell-a');
      await upkeep.expire();
    }
    expect(Object.fromEntries((await registry.cells()).map((c) => [c.id, c.state]))).toEqual({ 'cell-a': 'live', 'cell-dead': 'gone' });
    expect(lines.join('\n')).toMatch(/cell\(s\) cell-dead stopped heartbeating/);
    expect(await registry.placementOf(placed.runId)).toMatchObject({ cellId: 'cell-a', lost: false });
  });
});
