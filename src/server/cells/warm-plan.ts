/**
 * How many ready clusters each cell's warm pool should hold now, from the classes due (planned
 * ahead of their start by the instructor: classes/schedule.ts). Pure: the caller passes the
 * classes, the cells and the time, so every cell computes the same plan from the shared database
 * and takes its own line of it; nothing central decides.
 *
 * Demand: each class starting within the lead time or running wants `fraction` of its expected
 * learners warm, less those of its members who already started a lab run (each took a cluster,
 * and the pool refills behind every claim: without subtracting them, a class of 40 would leave
 * 32 + 32 clusters made). The demand is split over the live cells in proportion to their free
 * slots (largest remainder, ties by cell id), never above a cell's free slots or the ceiling; what
 * a full cell cannot take goes to the others. Every cell keeps at least the floor
 * (IRLAB_WARM_POOL_SIZE); a draining or gone cell gets only the floor (nothing new is placed there).
 */

export interface PlanClass {
  id: string;
  /** Epoch ms. */
  startsAt: number;
  endsAt: number;
  expectedLearners: number;
  /** Members who already started a lab run since the start. */
  arrived: number;
  labs: string[];
}

export interface PlanCell {
  id: string;
  state: 'live' | 'draining' | 'gone';
  capacity: number;
  /** Slots taken. */
  used: number;
}

export interface WarmPlanSettings {
  /** Ready clusters every cell keeps whatever the classes (IRLAB_WARM_POOL_SIZE). */
  floor: number;
  /** The most ready clusters one cell holds (IRLAB_WARM_POOL_MAX). */
  ceiling: number;
  /** Of the expected learners, the fraction kept warm, 0..1 (IRLAB_WARM_FRACTION / 100). */
  fraction: number;
  /** A class is prepared for this long before its start (IRLAB_WARM_LEAD_MINUTES). */
  leadMs: number;
}

export interface CellPlan {
  /** Ready clusters the cell's pool should hold. */
  clusters: number;
  /** Labs of the classes due (slugs, sorted): what its incident shelves should hold. */
  labs: string[];
}

export interface WarmPlan {
  /** Clusters wanted warm over all cells before the split (after the fraction and arrivals). */
  demand: number;
  /** What the cells could take of it (the rest starts cold). */
  placed: number;
  /** The classes counted, by id. */
  due: string[];
  cells: Map<string, CellPlan>;
}

/** The classes the plan counts at `now`: starting within the lead time, or running. */
export function classesDue(classes: readonly PlanClass[], now: number, leadMs: number): PlanClass[] {
  return classes.filter((c) => c.startsAt - leadMs <= now && now < c.endsAt && c.expectedLearners > 0);
}

export function planWarmPools(input: { classes: readonly PlanClass[]; cells: readonly PlanCell[]; settings: WarmPlanSettings; now: number }): WarmPlan {
  const { settings, now } = input;
  const floor = Math.max(0, Math.floor(settings.floor));
  const ceiling = Math.max(floor, Math.floor(settings.ceiling));
  const fraction = Math.min(1, Math.max(0, settings.fraction));
  const due = classesDue(input.classes, now, settings.leadMs);
  const demand = due.reduce((sum, c) => sum + Math.max(0, Math.ceil(fraction * c.expectedLearners) - Math.max(0, c.arrived)), 0);
  const labs = [...new Set(due.flatMap((c) => c.labs))].sort();

  const cells = [...input.cells].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const live = cells.filter((c) => c.state === 'live');
  // What each live cell can hold: its free slots (every ready cluster will be a learner's), the ceiling.
  const room = new Map(live.map((c) => [c.id, Math.max(0, Math.min(ceiling, c.capacity - c.used))]));
  const share = new Map(live.map((c) => [c.id, 0]));

  // Water-filling: split what is left over the cells that still have room, in proportion to their
  // free slots; a cell that reaches its room drops out and the rest is split again.
  let left = demand;
  for (;;) {
    const open = live.filter((c) => share.get(c.id)! < room.get(c.id)!);
    if (left <= 0 || !open.length) break;
    const weight = (c: PlanCell) => Math.max(1, c.capacity - c.used);
    const total = open.reduce((sum, c) => sum + weight(c), 0);
    const exact = open.map((c) => ({ c, exact: (left * weight(c)) / total }));
    const give = new Map(exact.map(({ c, exact: e }) => [c.id, Math.floor(e)]));
    let remainder = left - [...give.values()].reduce((a, b) => a + b, 0);
    // Largest remainder first, ties by cell id (the order of `open`): deterministic on every cell.
    for (const { c } of [...exact].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)))) {
      if (remainder <= 0) break;
      give.set(c.id, give.get(c.id)! + 1);
      remainder--;
    }
    let gave = 0;
    for (const c of open) {
      const take = Math.min(give.get(c.id)!, room.get(c.id)! - share.get(c.id)!);
      share.set(c.id, share.get(c.id)! + take);
      gave += take;
    }
    left -= gave;
    if (gave === 0) break;
  }

  const plan = new Map<string, CellPlan>();
  for (const c of cells) {
    const clusters = Math.max(floor, share.get(c.id) ?? 0);
    plan.set(c.id, { clusters, labs: c.state === 'live' && (share.get(c.id) ?? 0) > 0 ? labs : [] });
  }
  return { demand, placed: demand - Math.max(0, left), due: due.map((c) => c.id), cells: plan };
}

/** One process (IRLAB_ROLE=all): its one pool is a cell whose room is the ceiling. */
export function planOneProcess(classes: readonly PlanClass[], settings: WarmPlanSettings, now: number): CellPlan & { demand: number } {
  const plan = planWarmPools({ classes, cells: [{ id: 'all', state: 'live', capacity: Math.max(settings.ceiling, settings.floor), used: 0 }], settings, now });
  return { ...plan.cells.get('all')!, demand: plan.demand };
}
