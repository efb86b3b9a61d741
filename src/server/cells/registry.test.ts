import { describe, expect, it } from 'vitest';
import { allMigrations } from '../store/migrations.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { cellRegistry, PlacementError, type CellRegistry, type Placement } from './registry.ts';

const open = openedPerTest();
const T0 = Date.parse('2026-12-07T10:00:00Z');

/** A registry on `store` with a clock the test moves. */
function registryOn(store: SqlStore, time = { now: T0 }) {
  return { time, registry: cellRegistry({ store, clock: () => new Date(time.now), placeWithinMs: 15_000, expireAfterMs: 45_000 }) };
}

/** Settles every promise; the placements that succeeded and the errors of those that did not. */
async function settle(calls: Array<Promise<Placement & { fresh: boolean }>>) {
  const results = await Promise.allSettled(calls);
  return {
    placed: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    refused: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

/** No cell holds more live placements than its capacity, and no slot is held twice. */
async function expectNoOverfill(registry: CellRegistry, store: SqlStore) {
  for (const cell of await registry.cells()) expect(cell.used, `cell ${cell.id}`).toBeLessThanOrEqual(cell.capacity);
  const slots = await store.all<{ cell_id: string; slot: number; n: number }>('SELECT cell_id, slot, COUNT(*) AS n FROM placements WHERE lost = 0 GROUP BY cell_id, slot HAVING COUNT(*) > 1');
  expect(slots).toEqual([]);
  const taken = await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM cell_slots WHERE run_id IS NOT NULL');
  const live = await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM placements WHERE lost = 0');
  expect(taken!.n).toBe(live!.n);
  expect(await store.all("SELECT p.run_id FROM placements p JOIN cells c ON c.id = p.cell_id WHERE p.lost = 0 AND c.state = 'gone'")).toEqual([]);
}

describe.each(testStores())('cell registry on $name', (backend: TestBackend) => {
  it('registers cells, heartbeats them, and places each run once, filling cells in proportion to their capacity', async () => {
    const store = await open(backend);
    const { registry } = registryOn(store);
    expect(await registry.register({ id: 'cell-a', url: 'http://cell-a:4321', capacity: 2 })).toBe('live');
    expect(await registry.register({ id: 'cell-b', url: 'http://cell-b:4321', capacity: 4 })).toBe('live');
    expect(await registry.heartbeat('cell-a')).toBe('live');
    expect(await registry.heartbeat('nobody')).toBe('gone');

    const first = await registry.place('learner-1', 'run-1');
    expect(first).toMatchObject({ runId: 'run-1', learnerId: 'learner-1', fresh: true, lost: false });
    const again = await registry.place('learner-1', 'run-1');
    expect(again).toMatchObject({ cellId: first.cellId, slot: first.slot, fresh: false });

    for (let i = 2; i <= 6; i++) await registry.place(`learner-${i}`, `run-${i}`);
    expect((await registry.cells()).map((c) => [c.id, c.used, c.capacity])).toEqual([['cell-a', 2, 2], ['cell-b', 4, 4]]);
    const full = await registry.place('learner-7', 'run-7').catch((e: unknown) => e);
    expect(full).toBeInstanceOf(PlacementError);
    expect(full).toMatchObject({ status: 503, message: expect.stringMatching(/no live cell has a free slot/) });
    // A drill is a run of its own kind: the same id as a lab run is another placement.
    expect(await registry.release('run-6')).toBe(true);
    expect(await registry.place('facilitator', 'run-1', 'drill')).toMatchObject({ runKind: 'drill', fresh: true });
    await expectNoOverfill(registry, store);
  });

  it('never over-fills a cell when many placements race', async () => {
    const store = await open(backend);
    const { registry } = registryOn(store);
    await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 5 });
    await registry.register({ id: 'cell-b', url: 'http://cell-b', capacity: 7 });
    const { placed, refused } = await settle(Array.from({ length: 30 }, (_, i) => registry.place(`learner-${i}`, `run-${i}`)));
    expect(placed).toHaveLength(12);
    expect(refused).toHaveLength(18);
    for (const e of refused) expect(e).toMatchObject({ name: 'PlacementError', status: 503 });
    await expectNoOverfill(registry, store);
  });

  it('gives a draining cell nothing new and keeps what it has', async () => {
    const store = await open(backend);
    const { registry } = registryOn(store);
    await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 10 });
    const kept = await registry.place('learner-1', 'run-1');
    expect(await registry.drain('cell-a')).toBe(true);
    expect(await registry.drain('cell-a')).toBe(false);
    expect(await registry.heartbeat('cell-a')).toBe('draining');
    expect(await registry.place('learner-1', 'run-1')).toMatchObject({ cellId: 'cell-a', slot: kept.slot, fresh: false });
    await expect(registry.place('learner-2', 'run-2')).rejects.toMatchObject({ status: 503 });
    await registry.register({ id: 'cell-b', url: 'http://cell-b', capacity: 10 });
    expect(await registry.place('learner-2', 'run-2')).toMatchObject({ cellId: 'cell-b' });
    // Restarting keeps a draining cell draining.
    expect(await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 10 })).toBe('draining');
    expect((await registry.placementsOn('cell-a')).map((p) => p.runId)).toEqual(['run-1']);
    // Once it has nothing, it leaves.
    expect(await registry.release('run-1')).toBe(true);
    expect(await registry.leave('cell-a')).toBe(0);
    expect(await registry.heartbeat('cell-a')).toBe('gone');
  });

  it('stops placing on a silent cell, then expires it: its placements are lost and placed again on a live cell', async () => {
    const store = await open(backend);
    const { registry, time } = registryOn(store);
    await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 3 });
    await registry.register({ id: 'cell-b', url: 'http://cell-b', capacity: 3 });
    const onA = [await registry.place('learner-1', 'run-1'), await registry.place('learner-2', 'run-2'), await registry.place('learner-3', 'run-3')].filter((p) => p.cellId === 'cell-a');
    expect(onA.length).toBeGreaterThan(0);

    time.now += 20_000; // past placeWithinMs: only the cell that heartbeats is placed on
    await registry.heartbeat('cell-b');
    expect(await registry.expire()).toEqual({ cells: [], lost: 0 });
    const meanwhile = await registry.place('learner-4', 'run-4');
    expect(meanwhile.cellId).toBe('cell-b');

    time.now += 30_000; // cell-a silent for 50 s: past expireAfterMs
    await registry.heartbeat('cell-b');
    expect(await registry.expire()).toEqual({ cells: ['cell-a'], lost: onA.length });
    expect(await registry.expire()).toEqual({ cells: [], lost: 0 });
    expect(await registry.placementOf(onA[0]!.runId)).toMatchObject({ cellId: 'cell-a', lost: true });
    expect(await registry.heartbeat('cell-a')).toBe('gone');
    expect(await registry.placementsOn('cell-a')).toEqual([]);

    // The learner is offered a fresh cluster: the lost run goes to the live cell (while it has room).
    const moved = await registry.place(onA[0]!.learnerId, onA[0]!.runId);
    expect(moved).toMatchObject({ cellId: 'cell-b', fresh: true, lost: false });
    expect(await registry.placementOf(onA[0]!.runId)).toMatchObject({ cellId: 'cell-b', lost: false });
    // The runs placed on a live cell, of those asked about.
    const asked = [onA[0]!.runId, 'nobody', ...onA.slice(1).map((p) => p.runId)];
    const placed = await registry.placedOf(asked);
    expect(placed.has(onA[0]!.runId)).toBe(true);
    expect(placed.has('nobody')).toBe(false);
    for (const p of onA.slice(1)) expect(placed.has(p.runId), p.runId).toBe((await registry.placementOf(p.runId))?.lost === false);
    expect(await registry.placedOf([])).toEqual(new Set());

    // The cell comes back: live again with every slot free, holding none of its old runs.
    expect(await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 3 })).toBe('live');
    expect((await registry.cells()).find((c) => c.id === 'cell-a')).toMatchObject({ state: 'live', used: 0 });
    await expectNoOverfill(registry, store);
  });

  it('frees a slot on release and shrinks capacity without evicting a run', async () => {
    const store = await open(backend);
    const { registry } = registryOn(store);
    await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 2 });
    const one = await registry.place('learner-1', 'run-1');
    const two = await registry.place('learner-2', 'run-2');
    expect([one.slot, two.slot].sort()).toEqual([1, 2]);
    await registry.register({ id: 'cell-a', url: 'http://cell-a', capacity: 1 });
    await expect(registry.place('learner-3', 'run-3')).rejects.toMatchObject({ status: 503 });
    const high = one.slot === 2 ? one : two;
    const low = one.slot === 2 ? two : one;
    expect(await registry.release(high.runId)).toBe(true);
    expect(await registry.release(high.runId)).toBe(false);
    await expect(registry.place('learner-3', 'run-3')).rejects.toMatchObject({ status: 503 });
    await registry.release(low.runId);
    expect(await registry.place('learner-3', 'run-3')).toMatchObject({ slot: 1 });
    expect(await store.get('SELECT COUNT(*) AS n FROM cell_slots')).toEqual({ n: 1 });
  });

  it('refuses what is not an id, a URL or a capacity, saying what it wants', async () => {
    const store = await open(backend);
    const { registry } = registryOn(store);
    await expect(registry.register({ id: 'a b', url: 'http://x', capacity: 1 })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/is not an id/) });
    await expect(registry.register({ id: 'a', url: 'file:///etc/passwd', capacity: 1 })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/not an http\(s\) URL/) });
    await expect(registry.register({ id: 'a', url: 'http://x', capacity: 1.5 })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/capacity/) });
    await expect(registry.register({ id: 'a', url: 'http://x', capacity: 10_001 })).rejects.toMatchObject({ status: 400 });
    await expect(registry.place('', 'run')).rejects.toMatchObject({ status: 400 });
    await expect(registry.place('l', 'x'.repeat(129))).rejects.toMatchObject({ status: 400 });
    await expect(registry.place('l', 'r', 'cluster' as 'lab')).rejects.toMatchObject({ status: 400 });
    expect(() => cellRegistry({ store, placeWithinMs: 10_000, expireAfterMs: 5_000 })).toThrow(/expireAfterMs/);
  });
});

describe.each(testStores().filter((b) => b.openTogether))('placement from several processes on $name', (backend: TestBackend) => {
  /** `count` stores on one database (processes sharing PostgreSQL), closed after `work`. */
  async function together<T>(count: number, work: (stores: SqlStore[]) => Promise<T>): Promise<T> {
    const stores = await backend.openTogether!(count, allMigrations);
    try {
      return await work(stores);
    } finally {
      await Promise.all(stores.slice(1).map((s) => s.close()));
      await stores[0]!.close();
    }
  }

  it('never over-fills a cell: concurrent placements from four fronts each take a different slot', async () => {
    await together(4, async (stores) => {
      const time = { now: T0 };
      const fronts = stores.map((s) => registryOn(s, time).registry);
      await fronts[0]!.register({ id: 'cell-a', url: 'http://cell-a', capacity: 6 });
      await fronts[1]!.register({ id: 'cell-b', url: 'http://cell-b', capacity: 9 });
      const { placed, refused } = await settle(Array.from({ length: 48 }, (_, i) => fronts[i % 4]!.place(`learner-${i}`, `run-${i}`)));
      expect(placed).toHaveLength(15);
      for (const e of refused) expect(e).toMatchObject({ name: 'PlacementError', status: 503 });
      await expectNoOverfill(fronts[0]!, stores[0]!);
      expect(new Set(placed.map((p) => `${p.cellId}/${p.slot}`)).size).toBe(15);
    });
  });

  it('spreads a burst of Starts over the cells in proportion to their capacity, not onto the first cell', async () => {
    await together(4, async (stores) => {
      const time = { now: T0 };
      const fronts = stores.map((s) => registryOn(s, time).registry);
      await fronts[0]!.register({ id: 'cell-a', url: 'http://cell-a', capacity: 20 });
      await fronts[0]!.register({ id: 'cell-b', url: 'http://cell-b', capacity: 20 });
      const { placed, refused } = await settle(Array.from({ length: 16 }, (_, i) => fronts[i % 4]!.place(`learner-${i}`, `run-${i}`)));
      expect(refused).toEqual([]);
      const onA = placed.filter((p) => p.cellId === 'cell-a').length;
      // Equal cells: an equal share, give or take the placer that found the other's slot locked.
      expect(Math.abs(onA - (placed.length - onA)), placed.map((p) => `${p.cellId}/${p.slot}`).join(' ')).toBeLessThanOrEqual(2);
      await expectNoOverfill(fronts[0]!, stores[0]!);
    });
  });

  it('places one run once when every front places it at the same moment', async () => {
    await together(4, async (stores) => {
      const time = { now: T0 };
      const fronts = stores.map((s) => registryOn(s, time).registry);
      await fronts[0]!.register({ id: 'cell-a', url: 'http://cell-a', capacity: 20 });
      await fronts[0]!.register({ id: 'cell-b', url: 'http://cell-b', capacity: 20 });
      const { placed, refused } = await settle(Array.from({ length: 16 }, (_, i) => fronts[i % 4]!.place('learner-1', 'the-run')));
      expect(refused).toEqual([]);
      expect(new Set(placed.map((p) => `${p.cellId}/${p.slot}`)).size).toBe(1);
      expect(placed.filter((p) => p.fresh)).toHaveLength(1);
      await expectNoOverfill(fronts[0]!, stores[0]!);
      expect((await fronts[0]!.cells()).reduce((n, c) => n + c.used, 0)).toBe(1);
    });
  });

  it('a cell expired while placements race keeps none of them alive', async () => {
    await together(3, async (stores) => {
      // Rounds, each with cells of its own: the race is timing's, so give it several chances.
      for (let round = 0; round < 4; round++) {
        const base = T0 + round * 1_000_000;
        const time = { now: base };
        const fronts = stores.map((s) => registryOn(s, time).registry);
        const [a, b] = [`cell-a${round}`, `cell-b${round}`];
        await fronts[0]!.register({ id: a, url: 'http://cell-a', capacity: 30 });
        await fronts[0]!.register({ id: b, url: 'http://cell-b', capacity: 30 });
        time.now += 14_000; // both still placeable; a clock 46 s on expires only the silent one
        await fronts[1]!.heartbeat(b);
        const late = cellRegistry({ store: stores[2]!, clock: () => new Date(base + 46_000) });
        const [results] = await Promise.all([settle(Array.from({ length: 20 }, (_, i) => fronts[i % 2]!.place(`learner-${i}`, `run-${round}-${i}`))), late.expire()]);
        expect(results.refused).toEqual([]);
        // Whatever was placed on the expired cell was lost with it, or came after it: then elsewhere.
        expect(await fronts[0]!.placementsOn(a)).toEqual([]);
        await expectNoOverfill(fronts[0]!, stores[0]!);
        await fronts[0]!.leave(b);
      }
    });
  });
});
