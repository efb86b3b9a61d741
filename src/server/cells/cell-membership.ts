/**
 * A cell's life in the registry (registry.ts): it registers at start (once it listens), heartbeats
 * on a timer, and on stopping drains (no new placements while its learners' requests finish),
 * then leaves (its placements become lost: those learners start again elsewhere, progress kept).
 * A heartbeat answered `gone` (fronts gave up on this cell while it was unreachable) registers it
 * again, with every slot free. Fronts run `frontUpkeep`: expiring silent cells on the same beat.
 * Timers are injected so tests drive them.
 */
import type { CellRegistry, CellState, Placement } from './registry.ts';

/** A placement's name among a cell's: run ids are unique per kind. */
export const placementKey = (placement: Pick<Placement, 'runKind' | 'runId'>): string => `${placement.runKind}:${placement.runId}`;

export interface Timers {
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const nodeTimers: Timers = {
  setInterval: (run, ms) => setInterval(run, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface CellMembershipOptions {
  registry: CellRegistry;
  cell: { id: string; url: string; capacity: number };
  heartbeatMs: number;
  timers?: Timers;
  log?: (line: string) => void;
  error?: (line: string) => void;
  /**
   * Which of these placements hold nothing on this cell any more: a learner's (run kind 'lab')
   * once they have no lab run going and no shell here, a drill's once the drill has ended. Their
   * slots are given back on a heartbeat, once no front has placed them for `releaseAfterMs` (so a
   * Start on its way to the cell is not raced). One call per beat for all of them, so a full cell
   * costs a query, not one per learner; answers the idle ones' `placementKey`s. Absent: slots are
   * held until the cell leaves.
   */
  idle?: (placements: Placement[]) => Promise<ReadonlySet<string>>;
  releaseAfterMs?: number;
  now?: () => number;
}

export interface CellMembership {
  start(): Promise<CellState>;
  /** One heartbeat now (the timer calls it), then idle learners' slots given back; answers the state the registry holds. */
  beat(): Promise<CellState>;
  /** No new placements; existing learners keep working until `leave`. */
  drain(): Promise<void>;
  /**
   * After `drain`: waits until no learner is placed here (each gives their slot back once their
   * run ends and their shells close, on a heartbeat), `timeoutMs` passes or `signal` aborts;
   * answers how many are still placed (they start again on another cell when it leaves).
   */
  waitForLearners(timeoutMs: number, signal?: AbortSignal): Promise<number>;
  /** Gone: heartbeats stop, placements lost. */
  leave(): Promise<number>;
}

export function cellMembership({ registry, cell, heartbeatMs, timers = nodeTimers, log = console.log, error = console.error, idle, releaseAfterMs = 5 * 60_000, now = Date.now }: CellMembershipOptions): CellMembership {
  let timer: unknown;
  let beating = false;
  let left = false;
  const releaseIdle = async () => {
    if (!idle) return;
    const old = (await registry.placementsOn(cell.id)).filter((placement) => now() - placement.placedAt >= releaseAfterMs);
    if (!old.length) return;
    const idlePlacements = await idle(old);
    for (const placement of old) {
      if (!idlePlacements.has(placementKey(placement))) continue;
      // Only if no front placed them since (a Start on its way here keeps the slot).
      if (!(await registry.release(placement.runId, placement.runKind, placement.placedAt))) continue;
      if (placement.runKind === 'drill') log(`irlab cell ${cell.id}: gave back the slot of drill ${placement.runId} (it has ended)`);
      else log(`irlab cell ${cell.id}: gave back the slot of learner ${placement.learnerId} (no lab run, no shell here)`);
    }
  };
  const beat = async (): Promise<CellState> => {
    const state = await registry.heartbeat(cell.id);
    if (state === 'gone' && !left) {
      error(`irlab cell ${cell.id}: the fronts gave this cell up (no heartbeat reached them for a while); its learners were moved. Registering again.`);
      return registry.register(cell);
    }
    await releaseIdle();
    return state;
  };
  return {
    async start() {
      const state = await registry.register(cell);
      log(`irlab cell ${cell.id}: registered at ${cell.url} with ${cell.capacity} slots (${state})`);
      timer = timers.setInterval(() => {
        if (beating || left) return;
        beating = true;
        beat()
          .catch((caught: unknown) => error(`irlab cell ${cell.id}: heartbeat failed: ${caught instanceof Error ? caught.message : String(caught)}`))
          .finally(() => (beating = false));
      }, heartbeatMs);
      return state;
    },
    beat,
    async drain() {
      if (await registry.drain(cell.id)) log(`irlab cell ${cell.id}: draining: no new learners are placed here`);
    },
    async waitForLearners(timeoutMs, signal) {
      const deadline = now() + timeoutMs;
      const placedHere = async () => (await registry.placementsOn(cell.id)).length;
      let placed = await placedHere();
      if (!placed || timeoutMs <= 0 || signal?.aborted) return placed;
      log(`irlab cell ${cell.id}: draining: waiting up to ${Math.round(timeoutMs / 1000)} s for ${placed} learner(s) to finish (their lab runs end, their shells close)`);
      return new Promise<number>((resolve) => {
        let asking = false;
        const finish = () => {
          timers.clearInterval(handle);
          signal?.removeEventListener('abort', finish);
          resolve(placed);
        };
        const handle = timers.setInterval(() => {
          if (asking) return;
          asking = true;
          placedHere()
            .then((count) => (placed = count))
            .catch((caught: unknown) => error(`irlab cell ${cell.id}: counting its learners while draining failed: ${caught instanceof Error ? caught.message : String(caught)}`))
            .finally(() => {
              asking = false;
              if (placed === 0 || now() >= deadline) finish();
            });
        }, heartbeatMs);
        signal?.addEventListener('abort', finish, { once: true });
      });
    },
    async leave() {
      left = true;
      if (timer !== undefined) timers.clearInterval(timer);
      const lost = await registry.leave(cell.id);
      log(`irlab cell ${cell.id}: left the registry (${lost} learner placement(s) released)`);
      return lost;
    },
  };
}

/** A front's share of the upkeep: cells silent past the expiry become gone, their placements lost. */
export function frontUpkeep({ registry, everyMs, timers = nodeTimers, log = console.log, error = console.error, onLost }: { registry: CellRegistry; everyMs: number; timers?: Timers; log?: (line: string) => void; error?: (line: string) => void; /** After this front gave cells up (e.g. ending their drills). */ onLost?: (cells: string[]) => Promise<void> }): { stop(): void; expire(): Promise<void> } {
  let running = false;
  const expire = async () => {
    if (running) return;
    running = true;
    try {
      const { cells, lost } = await registry.expire();
      if (cells.length) log(`irlab front: cell(s) ${cells.join(', ')} stopped heartbeating and were given up; ${lost} learner placement(s) marked lost (they start again on a live cell)`);
      if (cells.length) await onLost?.(cells);
    } catch (caught) {
      error(`irlab front: expiring silent cells failed: ${caught instanceof Error ? caught.message : String(caught)}`);
    } finally {
      running = false;
    }
  };
  const timer = timers.setInterval(() => void expire(), everyMs);
  return { stop: () => timers.clearInterval(timer), expire };
}
