// The warm plan: how many ready clusters each cell holds from the classes due, on an injected time.
import { describe, expect, it } from 'vitest';
import { classesDue, planOneProcess, planWarmPools, type PlanCell, type PlanClass, type WarmPlanSettings } from './warm-plan.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-12-08T09:00:00Z');
const settings: WarmPlanSettings = { floor: 1, ceiling: 20, fraction: 0.8, leadMs: 20 * MIN };
const klass = (over: Partial<PlanClass> = {}): PlanClass => ({ id: 'cls_a', startsAt: T0, endsAt: T0 + 120 * MIN, expectedLearners: 40, arrived: 0, labs: ['crashloop'], ...over });
const cell = (id: string, over: Partial<PlanCell> = {}): PlanCell => ({ id, state: 'live', capacity: 20, used: 0, ...over });
const clustersOf = (plan: ReturnType<typeof planWarmPools>) => Object.fromEntries([...plan.cells].map(([id, p]) => [id, p.clusters]));

describe('the warm plan', () => {
  it('keeps every cell at the floor when no class is due', () => {
    const plan = planWarmPools({ classes: [], cells: [cell('c0'), cell('c1')], settings, now: T0 });
    expect(clustersOf(plan)).toEqual({ c0: 1, c1: 1 });
    expect(plan.demand).toBe(0);
    expect(plan.cells.get('c0')!.labs).toEqual([]);
  });

  it('ignores a class that starts after the lead time, and counts it from the lead time on', () => {
    const cells = [cell('c0', { capacity: 50 })];
    const wide = { ...settings, ceiling: 50 };
    expect(clustersOf(planWarmPools({ classes: [klass()], cells, settings: wide, now: T0 - 21 * MIN }))).toEqual({ c0: 1 });
    const due = planWarmPools({ classes: [klass()], cells, settings: wide, now: T0 - 20 * MIN });
    expect(due.demand).toBe(32); // 80 % of 40
    expect(clustersOf(due)).toEqual({ c0: 32 });
    expect(due.cells.get('c0')!.labs).toEqual(['crashloop']);
  });

  it('splits one due class over the cells in proportion to their free slots, deterministically', () => {
    const cells = [cell('c1', { capacity: 30, used: 10 }), cell('c0', { capacity: 30 }), cell('c2', { capacity: 10 })];
    const wide = { ...settings, ceiling: 30 };
    const plan = planWarmPools({ classes: [klass({ expectedLearners: 25, labs: [] })], cells, settings: wide, now: T0 });
    // 20 wanted (80 % of 25) over free 30, 20, 10: 10, 6.67, 3.33 -> 10, 7, 3.
    expect(plan.demand).toBe(20);
    expect(clustersOf(plan)).toEqual({ c0: 10, c1: 7, c2: 3 });
    // Every cell computes the same plan whatever order it read the cells in.
    expect(clustersOf(planWarmPools({ classes: [klass({ expectedLearners: 25 })], cells: [...cells].reverse(), settings: wide, now: T0 }))).toEqual(clustersOf(plan));
  });

  it('adds two overlapping classes, and their labs', () => {
    const classes = [klass({ id: 'a', expectedLearners: 10, labs: ['dns'] }), klass({ id: 'b', startsAt: T0 + 10 * MIN, expectedLearners: 5, labs: ['crashloop', 'dns'] })];
    const plan = planWarmPools({ classes, cells: [cell('c0'), cell('c1')], settings, now: T0 });
    expect(plan.due).toEqual(['a', 'b']);
    expect(plan.demand).toBe(8 + 4);
    expect(clustersOf(plan)).toEqual({ c0: 6, c1: 6 });
    expect(plan.cells.get('c1')!.labs).toEqual(['crashloop', 'dns']);
  });

  it('subtracts the learners who already started, and goes back to the floor once the class is over', () => {
    const cells = [cell('c0')];
    expect(clustersOf(planWarmPools({ classes: [klass({ expectedLearners: 10, arrived: 5 })], cells, settings, now: T0 + 5 * MIN }))).toEqual({ c0: 3 });
    expect(clustersOf(planWarmPools({ classes: [klass({ expectedLearners: 10, arrived: 12 })], cells, settings, now: T0 + 5 * MIN }))).toEqual({ c0: 1 });
    expect(clustersOf(planWarmPools({ classes: [klass({ expectedLearners: 10 })], cells, settings, now: T0 + 120 * MIN }))).toEqual({ c0: 1 });
    expect(classesDue([klass()], T0 + 119 * MIN, settings.leadMs)).toHaveLength(1);
    expect(classesDue([klass()], T0 + 120 * MIN, settings.leadMs)).toHaveLength(0);
  });

  it('never plans above a cell\'s free slots: a full cell keeps its floor and the others take its share', () => {
    const cells = [cell('c0', { used: 20 }), cell('c1', { used: 17 }), cell('c2')];
    const plan = planWarmPools({ classes: [klass({ expectedLearners: 50 })], cells, settings, now: T0 });
    expect(plan.demand).toBe(40);
    expect(clustersOf(plan)).toEqual({ c0: 1, c1: 3, c2: 20 });
    expect(plan.placed).toBe(23);
    expect(plan.cells.get('c0')!.labs).toEqual([]);
  });

  it('gives a draining or gone cell only its floor and splits over the live ones', () => {
    const cells = [cell('c0', { state: 'draining' }), cell('c1'), cell('c2', { state: 'gone' }), cell('c3')];
    const plan = planWarmPools({ classes: [klass({ expectedLearners: 20 })], cells, settings, now: T0 });
    expect(clustersOf(plan)).toEqual({ c0: 1, c1: 8, c2: 1, c3: 8 });
  });

  it('holds each cell at the ceiling, the rest going cold', () => {
    const plan = planWarmPools({ classes: [klass({ expectedLearners: 1000 })], cells: [cell('c0', { capacity: 500 }), cell('c1', { capacity: 500 })], settings, now: T0 });
    expect(plan.demand).toBe(800);
    expect(clustersOf(plan)).toEqual({ c0: 20, c1: 20 });
    expect(plan.placed).toBe(40);
  });

  it('never goes below the floor, even above the free slots or the ceiling', () => {
    const high = { ...settings, floor: 3, ceiling: 2 };
    expect(clustersOf(planWarmPools({ classes: [klass()], cells: [cell('c0', { used: 20 })], settings: high, now: T0 }))).toEqual({ c0: 3 });
    expect(clustersOf(planWarmPools({ classes: [klass({ expectedLearners: 1 })], cells: [cell('c0')], settings: high, now: T0 }))).toEqual({ c0: 3 });
  });

  it('keeps the fraction within 0..1 and rounds each class up', () => {
    expect(planWarmPools({ classes: [klass({ expectedLearners: 3 })], cells: [cell('c0')], settings: { ...settings, fraction: 0.65 }, now: T0 }).demand).toBe(2);
    expect(planWarmPools({ classes: [klass({ expectedLearners: 3 })], cells: [cell('c0')], settings: { ...settings, fraction: 7 }, now: T0 }).demand).toBe(3);
    expect(planWarmPools({ classes: [klass({ expectedLearners: 3 })], cells: [cell('c0')], settings: { ...settings, fraction: 0 }, now: T0 }).demand).toBe(0);
  });

  it('sizes the one pool of one process the same way, up to the ceiling', () => {
    expect(planOneProcess([], settings, T0)).toEqual({ clusters: 1, labs: [], demand: 0 });
    expect(planOneProcess([klass({ expectedLearners: 10 })], settings, T0)).toEqual({ clusters: 8, labs: ['crashloop'], demand: 8 });
    expect(planOneProcess([klass({ expectedLearners: 40 })], settings, T0).clusters).toBe(20);
    expect(planOneProcess([klass({ expectedLearners: 40 })], settings, T0 + 121 * MIN).clusters).toBe(1);
  });

  it('hands out every cluster of the demand when the cells have room (no rounding loss)', () => {
    const cells = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id, i) => cell(id, { capacity: 20 + i, used: i }));
    for (let expected = 1; expected <= 150; expected++) {
      const plan = planWarmPools({ classes: [klass({ expectedLearners: expected })], cells, settings: { ...settings, floor: 0 }, now: T0 });
      const total = [...plan.cells.values()].reduce((sum, p) => sum + p.clusters, 0);
      expect(total).toBe(Math.min(plan.demand, 7 * 20));
      for (const [id, p] of plan.cells) expect(p.clusters).toBeLessThanOrEqual(Math.min(20, cells.find((c) => c.id === id)!.capacity - cells.find((c) => c.id === id)!.used));
    }
  });
});
