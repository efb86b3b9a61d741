/**
 * Applies the warm plan (warm-plan.ts) on a beat: reads the classes due from the shared store and,
 * on a cell, the registry's cells; computes the plan every cell computes; resizes this process's
 * warm pool to its own line; logs each change on one line. Several cells each run one, agreeing
 * without talking because the plan is deterministic over the same rows.
 */
import { dueClasses } from '../classes/schedule.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { Timers } from './cell-membership.ts';
import type { CellRegistry } from './registry.ts';
import { planOneProcess, planWarmPools, type CellPlan, type WarmPlanSettings } from './warm-plan.ts';

export interface WarmSizerOptions {
  store: SqlStore;
  /** A cell's registry and its id; undefined for one process (IRLAB_ROLE=all). */
  cell?: { registry: CellRegistry; id: string };
  settings: WarmPlanSettings;
  /** Sets this process's pool size; false when the pool is not running (no engine yet): try next beat. */
  resize(clusters: number): Promise<boolean>;
  everyMs: number;
  clock?: () => Date;
  timers?: Timers;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

export interface WarmSizer {
  /** One beat now: the plan this process applied (undefined when the pool is not running). */
  apply(): Promise<(CellPlan & { demand: number; due: number }) | undefined>;
  stop(): void;
}

const defaultTimers: Timers = {
  setInterval: (run, ms) => setInterval(run, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export function warmSizer({ store, cell, settings, resize, everyMs, clock = () => new Date(), timers = defaultTimers, log = console.log, error = console.error }: WarmSizerOptions): WarmSizer {
  let applied: number | undefined;
  let running = false;
  const who = cell ? `irlab cell ${cell.id}` : 'irlab';

  async function apply() {
    const now = clock();
    const classes = await dueClasses(store, now, settings.leadMs);
    let mine: CellPlan & { demand: number };
    if (cell) {
      const plan = planWarmPools({ classes, cells: await cell.registry.cells(), settings, now: now.getTime() });
      // Not in the registry (yet, or given up): the floor, as before any plan.
      mine = { ...(plan.cells.get(cell.id) ?? { clusters: settings.floor, labs: [] }), demand: plan.demand };
    } else {
      mine = planOneProcess(classes, settings, now.getTime());
    }
    if (!(await resize(mine.clusters))) return undefined;
    if (mine.clusters !== applied) {
      const why = classes.length ? `${classes.length} class(es) due or running want ${mine.demand} warm in all (${classes.map((c) => `${c.id}: ${c.expectedLearners} expected, ${c.arrived} arrived`).join('; ')})` : 'no class due: back to the floor (IRLAB_WARM_POOL_SIZE)';
      log(`${who}: warm pool ${applied ?? settings.floor} -> ${mine.clusters} ready clusters: ${why}`);
      applied = mine.clusters;
    }
    return { ...mine, due: classes.length };
  }

  const timer = timers.setInterval(() => {
    if (running) return;
    running = true;
    apply()
      .catch((caught: unknown) => error(`${who}: sizing the warm pool from the classes due failed: ${caught instanceof Error ? caught.message : String(caught)}`))
      .finally(() => (running = false));
  }, everyMs);
  return { apply, stop: () => timers.clearInterval(timer) };
}
