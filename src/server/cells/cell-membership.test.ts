import { describe, expect, it } from 'vitest';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { cellMembership, frontUpkeep, placementKey, type Timers } from './cell-membership.ts';
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

/** Polls `probe` (store round trips settle in their own time) for up to 10 s. */
const until = async (probe: () => Promise<boolean>) => {
  for (const deadline = Date.now() + 10_000; !(await probe()); ) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${probe.toString()}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
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
    const given: string[][] = [];
    const upkeep = frontUpkeep({ registry, everyMs: 1_000, timers: frontTimers.timers, log: (l) => lines.push(l), onLost: async (cells) => void given.push(cells) });
    expect(await member.start()).toBe('live');
    expect(cellTimers.count()).toBe(1);

    // Heartbeats keep it placeable; without them it is not placed on, then given up by a front.
    time.now += 2_500;
    cellTimers.fire();
    await until(async () => (await registry.cells())[0]!.heartbeatAt === time.now);
    expect((await registry.place('lrn_1', 'lrn_1')).cellId).toBe('cell-a');
    time.now += 10_000;
    await upkeep.expire();
    expect((await registry.placementOf('lrn_1'))?.lost).toBe(true);
    expect(lines.join('\n')).toMatch(/cell-a stopped heartbeating.*1 learner placement/);
    // The front that gave the cell up is told which (it ends their drills), once.
    expect(given).toEqual([['cell-a']]);
    expect((await registry.lostOn('cell-a', 'lab')).map((p) => p.runId)).toEqual(['lrn_1']);
    expect(await registry.lostOn('cell-a', 'drill')).toEqual([]);
    await upkeep.expire();
    expect(given).toEqual([['cell-a']]);
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
    const asked: string[][] = [];
    const member = cellMembership({
      registry, cell: { id: 'cell-a', url: 'http://127.0.0.1:1', capacity: 2 }, heartbeatMs: 1_000, timers: handTimers().timers,
      log: () => undefined, idle: async (placements) => (asked.push(placements.map((p) => p.learnerId).sort()), new Set(placements.filter((p) => !busy.has(p.learnerId)).map(placementKey))), releaseAfterMs: 60_000, now: () => time.now,
    });
    await member.start();
    await registry.place('lrn_busy', 'lrn_busy');
    await registry.place('lrn_done', 'lrn_done');
    // Full: a third learner has nowhere to go.
    await expect(registry.place('lrn_new', 'lrn_new')).rejects.toThrow();
    // Too young to give back (a Start may be on its way to the cell).
    await member.beat();
    expect((await registry.placementsOn('cell-a')).map((p) => p.learnerId).sort()).toEqual(['lrn_busy', 'lrn_done']);
    expect(asked).toEqual([]);
    time.now += 61_000;
    // A front routes lrn_done's Start here again (still idle on the cell: it has not arrived): kept.
    await registry.place('lrn_done', 'lrn_done');
    await member.beat();
    expect((await registry.placementsOn('cell-a')).map((p) => p.learnerId).sort()).toEqual(['lrn_busy', 'lrn_done']);
    asked.length = 0;
    time.now += 61_000;
    // And a placement re-placed between the cell's look and its release is not given back.
    const looked = (await registry.placementsOn('cell-a')).find((p) => p.learnerId === 'lrn_done')!;
    await registry.place('lrn_done', 'lrn_done');
    expect(await registry.release('lrn_done', 'lab', looked.placedAt)).toBe(false);
    time.now += 61_000;
    await member.beat();
    expect((await registry.placementsOn('cell-a')).map((p) => p.learnerId)).toEqual(['lrn_busy']);
    // One question per beat for every learner old enough, not one per learner.
    expect(asked).toEqual([['lrn_busy', 'lrn_done']]);
    expect((await registry.place('lrn_new', 'lrn_new')).cellId).toBe('cell-a');
  });

  it('asks about learners\' and drills\' placements in one call and gives back a drill\'s slot once it has ended', async () => {
    const store = await open(backend);
    const time = { now: Date.parse('2026-12-07T10:00:00Z') };
    const registry = cellRegistry({ store, clock: () => new Date(time.now), placeWithinMs: 3_000, expireAfterMs: 9_000 });
    const ended = new Set<string>();
    const calls: string[][] = [];
    const lines: string[] = [];
    const member = cellMembership({
      registry, cell: { id: 'cell-a', url: 'http://127.0.0.1:1', capacity: 3 }, heartbeatMs: 1_000, timers: handTimers().timers, log: (l) => lines.push(l), releaseAfterMs: 0, now: () => time.now,
      idle: async (placements) => (calls.push(placements.map(placementKey).sort()), new Set(placements.filter((p) => p.runKind === 'drill' && ended.has(p.runId)).map(placementKey))),
    });
    await member.start();
    await registry.place('lrn_a', 'lrn_a');
    await registry.place('lrn_fac', 'drl_one', 'drill');
    await member.beat();
    expect(calls).toEqual([['drill:drl_one', 'lab:lrn_a']]);
    ended.add('drl_one');
    await member.beat();
    expect((await registry.placementsOn('cell-a')).map(placementKey)).toEqual(['lab:lrn_a']);
    expect(lines.join('\n')).toMatch(/gave back the slot of drill drl_one \(it has ended\)/);
    await member.leave();
  });

  it('waits after a drain until its learners finished, the time is up, or a second signal', async () => {
    const store = await open(backend);
    const time = { now: Date.parse('2026-12-07T10:00:00Z') };
    const registry = cellRegistry({ store, clock: () => new Date(time.now), placeWithinMs: 3_000, expireAfterMs: 9_000 });
    const busy = new Set(['lrn_a', 'lrn_b']);
    const hand = handTimers();
    const lines: string[] = [];
    const member = cellMembership({
      registry, cell: { id: 'cell-a', url: 'http://127.0.0.1:1', capacity: 3 }, heartbeatMs: 1_000, timers: hand.timers,
      log: (l) => lines.push(l), idle: async (placements) => new Set(placements.filter((p) => !busy.has(p.learnerId)).map(placementKey)), releaseAfterMs: 0, now: () => time.now,
    });
    await member.start();
    await registry.place('lrn_a', 'lrn_a');
    await registry.place('lrn_b', 'lrn_b');
    await member.drain();
    // Nothing to wait for without a time, or with nobody placed.
    expect(await member.waitForLearners(0)).toBe(2);

    let settled: number | undefined;
    void member.waitForLearners(60_000).then((left) => (settled = left));
    await until(async () => lines.some((line) => /waiting up to 60 s for 2 learner/.test(line)));
    // Heartbeats give finished learners' slots back; the wait ends when the last one finished.
    busy.delete('lrn_a');
    hand.fire();
    await until(async () => (await registry.placementsOn('cell-a')).length === 1);
    hand.fire();
    await until(async () => true);
    expect(settled).toBeUndefined();
    busy.delete('lrn_b');
    hand.fire();
    await until(async () => (await registry.placementsOn('cell-a')).length === 0);
    // The wait counted on the same tick as the heartbeat, perhaps before it: the next tick sees 0.
    hand.fire();
    await until(async () => settled !== undefined);
    expect(settled).toBe(0);

    // Time up: answers who is still here.
    // Counted answers of "who is placed here", so a tick is known to be over.
    let counted = 0;
    const counting = { ...registry, placementsOn: async (id: string) => registry.placementsOn(id).finally(() => void counted++) };
    const stillBusy = cellMembership({ registry: counting, cell: { id: 'cell-b', url: 'http://127.0.0.1:2', capacity: 1 }, heartbeatMs: 1_000, timers: hand.timers, log: () => undefined, idle: async () => new Set(), now: () => time.now });
    await stillBusy.start();
    await registry.place('lrn_d', 'lrn_d');
    await stillBusy.drain();
    let timedOut: number | undefined;
    void stillBusy.waitForLearners(5_000).then((left) => (timedOut = left));
    await until(async () => counted === 1);
    hand.fire();
    await until(async () => counted >= 3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(timedOut).toBeUndefined();
    time.now += 5_000;
    hand.fire();
    await until(async () => timedOut !== undefined);
    expect(timedOut).toBe(1);

    // A second signal: the wait ends at once.
    const hurry = new AbortController();
    let hurried: number | undefined;
    void stillBusy.waitForLearners(60_000, hurry.signal).then((left) => (hurried = left));
    await until(async () => true);
    hurry.abort();
    await until(async () => hurried !== undefined);
    expect(hurried).toBe(1);
    await member.leave();
    await stillBusy.leave();
  });
});
