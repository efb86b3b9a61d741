/**
 * The cell registry and placement, shared by every front and cell through the store (PostgreSQL
 * when there are several processes; SQLite, one process, works the same way).
 *
 * A cell registers with its URL and capacity (that many slots) and heartbeats; a front places a
 * learner's lab run or drill on a live cell with a free slot whose heartbeat is fresh. Placing is
 * atomic: on PostgreSQL the free slot is taken with `SELECT ... FOR UPDATE SKIP LOCKED`, so
 * placers on any number of fronts each lock a different slot and a cell is never over-filled; on
 * SQLite the transaction holds the database's write lock. Placing the same run again gives the same
 * cell. A draining cell gets nothing new and keeps what it has. `expire` marks cells whose heartbeat
 * went stale `gone` and their placements `lost`: placing such a run again picks a live cell (the
 * learner gets a fresh cluster; the progress lives in the lab and drill tables, not here).
 *
 * Times are epoch milliseconds from the injected clock; the processes' clocks must agree to well
 * within `placeWithinMs` (NTP), since a heartbeat is stamped by the cell and judged by a front.
 */
import { StatusError } from '../../lib/error-status.ts';
import type { SqlQueries, SqlStore } from '../store/sql-store.ts';

export type CellState = 'live' | 'draining' | 'gone';
export type RunKind = 'lab' | 'drill';

export interface Cell {
  id: string;
  url: string;
  capacity: number;
  state: CellState;
  heartbeatAt: number;
  /** Slots taken by placements that are not lost. */
  used: number;
}

export interface Placement {
  runKind: RunKind;
  runId: string;
  cellId: string;
  /** The cell's URL, where a front proxies the run's terminal and drill sockets. */
  cellUrl: string;
  slot: number;
  learnerId: string;
  createdAt: number;
  /** When a front last placed the run here (a Start, a terminal opened): what idle release goes by. */
  placedAt: number;
  lost: boolean;
}

/** Something placement cannot do, with an HTTP status a front can answer with and how to fix it. */
export class PlacementError extends StatusError {
  constructor(message: string, status: number) {
    super(message, status);
    this.name = 'PlacementError';
  }
}

export interface CellRegistryOptions {
  store: SqlStore;
  clock?: () => Date;
  /** A cell is placed on only while its last heartbeat is at most this old (default 15 s). */
  placeWithinMs?: number;
  /** `expire` marks a cell gone once its last heartbeat is older than this (default 45 s). */
  expireAfterMs?: number;
}

/** A cell offers at most this many slots (a bound on the rows registering writes). */
export const MAX_CAPACITY = 10_000;
const ID = /^[\w.:-]{1,128}$/;
/** Placements tried again after a lost race or a deadlock PostgreSQL broke, before giving up. */
const ATTEMPTS = 5;

/** A transaction that raced another and should simply run again. */
class Again extends Error {}
const retriable = (error: unknown) =>
  error instanceof Again || ['40001', '40P01'].includes((error as { code?: string })?.code ?? '');

type CellRow = { id: string; url: string; capacity: number; state: CellState; heartbeat_at: number; used: number };
type PlacementRow = { run_kind: RunKind; run_id: string; cell_id: string; cell_url: string; slot: number; learner_id: string; created_at: number; placed_at: number; lost: number };

const toPlacement = (r: PlacementRow): Placement => ({
  runKind: r.run_kind,
  runId: r.run_id,
  cellId: r.cell_id,
  cellUrl: r.cell_url,
  slot: r.slot,
  learnerId: r.learner_id,
  createdAt: r.created_at,
  placedAt: r.placed_at,
  lost: r.lost === 1,
});

const PLACEMENT = `SELECT p.run_kind, p.run_id, p.cell_id, c.url AS cell_url, p.slot, p.learner_id, p.created_at, p.placed_at, p.lost
  FROM placements p JOIN cells c ON c.id = p.cell_id`;

function checkId(what: string, id: string): void {
  if (typeof id !== 'string' || !ID.test(id)) throw new PlacementError(`${what} ${JSON.stringify(id)} is not an id: 1 to 128 letters, digits, '_', '.', ':' or '-'`, 400);
}
function checkKind(kind: RunKind): void {
  if (kind !== 'lab' && kind !== 'drill') throw new PlacementError(`the run kind ${JSON.stringify(kind)} is neither lab nor drill`, 400);
}

export function cellRegistry({ store, clock = () => new Date(), placeWithinMs = 15_000, expireAfterMs = 45_000 }: CellRegistryOptions) {
  if (!(placeWithinMs > 0) || !(expireAfterMs >= placeWithinMs)) throw new Error(`cell registry: expireAfterMs (${expireAfterMs}) must be at least placeWithinMs (${placeWithinMs}), both above 0`);
  const now = () => clock().getTime();
  const { lockRows } = store.dialect;

  /** Runs `work` in a transaction, again after a lost race or a deadlock, at most ATTEMPTS times. */
  async function atomically<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.transaction(work);
      } catch (error) {
        if (!retriable(error) || attempt >= ATTEMPTS) {
          if (error instanceof Again) throw new PlacementError('placement kept racing other placements; try again', 503);
          throw error;
        }
      }
    }
  }

  /** Makes slots 1..capacity exist with their fill; drops free slots above it (taken ones go when released). */
  async function fitSlots(tx: SqlQueries, cellId: string, capacity: number): Promise<void> {
    await tx.run('DELETE FROM cell_slots WHERE cell_id = ? AND slot > ? AND run_id IS NULL', [cellId, capacity]);
    if (capacity === 0) return;
    await tx.run('UPDATE cell_slots SET fill = slot * 1.0 / ? WHERE cell_id = ?', [capacity, cellId]);
    await tx.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO cell_slots (cell_id, slot, fill) SELECT c.id, n.i, n.i * 1.0 / c.capacity FROM n, cells c WHERE c.id = ? ON CONFLICT (cell_id, slot) DO NOTHING`,
      [capacity, cellId],
    );
  }

  /**
   * After a cell's state changed in `tx`: waits for the placements on it still in flight (each
   * holds its slot's row lock until it commits, and any later one finds the new state), so what
   * follows in `tx` sees all of them. Placers never lock the cell's row: it stays free for heartbeats.
   */
  async function settlePlacements(tx: SqlQueries, cellId: string): Promise<void> {
    await tx.all(`SELECT slot FROM cell_slots WHERE cell_id = ?${lockRows('update')}`, [cellId]);
  }

  async function loseCell(tx: SqlQueries, cellId: string, at: number): Promise<number> {
    await settlePlacements(tx, cellId);
    await tx.run('UPDATE cell_slots SET run_kind = NULL, run_id = NULL WHERE cell_id = ? AND run_id IS NOT NULL', [cellId]);
    return (await tx.run('UPDATE placements SET lost = 1, lost_at = ? WHERE cell_id = ? AND lost = 0', [at, cellId])).changes;
  }

  return {
    /**
     * A cell announces itself (at start, or to change its URL or capacity). A new or gone cell
     * becomes live with every slot free (a gone cell's placements were lost); a live or draining
     * one keeps its state and its placements.
     */
    async register(cell: { id: string; url: string; capacity: number }): Promise<CellState> {
      checkId('the cell id', cell.id);
      if (typeof cell.url !== 'string' || !URL.canParse(cell.url) || !/^https?:$/.test(new URL(cell.url).protocol)) {
        throw new PlacementError(`the cell URL ${JSON.stringify(cell.url)} is not an http(s) URL; give the address fronts reach the cell at, e.g. http://cell-0.cells:4321`, 400);
      }
      if (!Number.isInteger(cell.capacity) || cell.capacity < 0 || cell.capacity > MAX_CAPACITY) {
        throw new PlacementError(`the capacity ${cell.capacity} is not a whole number from 0 to ${MAX_CAPACITY}`, 400);
      }
      const at = now();
      return atomically(async (tx) => {
        const before = await tx.get<{ state: CellState }>(`SELECT state FROM cells WHERE id = ?${lockRows('update')}`, [cell.id]);
        let state: CellState;
        if (!before) {
          await tx.run("INSERT INTO cells (id, url, capacity, state, heartbeat_at, registered_at) VALUES (?, ?, ?, 'live', ?, ?)", [cell.id, cell.url, cell.capacity, at, at]);
          state = 'live';
        } else {
          state = before.state === 'gone' ? 'live' : before.state;
          await tx.run('UPDATE cells SET url = ?, capacity = ?, state = ?, heartbeat_at = ?, registered_at = ? WHERE id = ?', [cell.url, cell.capacity, state, at, at, cell.id]);
        }
        await fitSlots(tx, cell.id, cell.capacity);
        return state;
      });
    },

    /**
     * A cell's heartbeat. Answers its state: `gone` means it was expired (or never registered):
     * its runs were lost and placed elsewhere, so it reaps what it holds and registers again.
     */
    async heartbeat(cellId: string): Promise<CellState> {
      const row = await store.get<{ state: CellState }>("UPDATE cells SET heartbeat_at = ? WHERE id = ? AND state <> 'gone' RETURNING state", [now(), cellId]);
      return row?.state ?? 'gone';
    },

    /** No new placements on the cell; its placements stay. False when it is not live. */
    async drain(cellId: string): Promise<boolean> {
      return atomically(async (tx) => {
        const drained = (await tx.run("UPDATE cells SET state = 'draining' WHERE id = ? AND state = 'live'", [cellId])).changes === 1;
        if (drained) await settlePlacements(tx, cellId);
        return drained;
      });
    },

    /** A cell stopping on purpose (drained, or shutting down): gone now, its placements lost. */
    async leave(cellId: string): Promise<number> {
      const at = now();
      return atomically(async (tx) => {
        const left = await tx.run("UPDATE cells SET state = 'gone' WHERE id = ? AND state <> 'gone'", [cellId]);
        return left.changes === 1 ? loseCell(tx, cellId, at) : 0;
      });
    },

    /**
     * The cell hosting the run: its placement when it has one that is not lost (the same cell every
     * time, draining or not), otherwise a free slot on a live cell with a fresh heartbeat, filling
     * cells in proportion to their capacity. A lost run is placed afresh. 503 when no cell can take it.
     */
    async place(learnerId: string, runId: string, runKind: RunKind = 'lab'): Promise<Placement & { fresh: boolean }> {
      checkId('the learner id', learnerId);
      checkId('the run id', runId);
      checkKind(runKind);
      return atomically(async (tx) => {
        const existing = await tx.get<PlacementRow>(`${PLACEMENT} WHERE p.run_kind = ? AND p.run_id = ?`, [runKind, runId]);
        const at = now();
        if (existing && existing.lost === 0) {
          // The learner is the run's owner as the lab or drill tables say (an account merge moves
          // runs); `placed_at` tells the cell not to give this slot back under a Start on its way.
          await tx.run('UPDATE placements SET learner_id = ?, placed_at = ? WHERE run_kind = ? AND run_id = ?', [learnerId, at, runKind, runId]);
          return { ...toPlacement(existing), learnerId, placedAt: at, fresh: false };
        }
        // The free slot of lowest fill over every live cell with a fresh heartbeat (cells fill in
        // proportion to their capacity), skipping the slots other placers hold locked: a burst of
        // Starts from several fronts takes A1, B1, A2, B2... rather than queueing on one cell. The
        // partial index cell_slots_free_by_fill keeps it a short index walk however many slots are free.
        const slot = await tx.get<{ cell_id: string; slot: number; url: string }>(
          `SELECT s.cell_id, s.slot, c.url FROM cell_slots s JOIN cells c ON c.id = s.cell_id
           WHERE s.run_id IS NULL AND c.state = 'live' AND c.heartbeat_at >= ?
           ORDER BY s.fill, s.cell_id, s.slot LIMIT 1${lockRows('update', { of: 's', skipLocked: true })}`,
          [at - placeWithinMs],
        );
        if (!slot) throw new PlacementError('no live cell has a free slot: every cell is full, draining or silent; try again in a minute, or add cells', 503);
        // The cell may have been drained or expired after this statement's snapshot. A drain or
        // expiry that committed before the slot was locked shows now (a new statement, a new
        // snapshot); one still to commit waits for this slot's lock (settlePlacements) and then sees
        // this placement.
        const cell = await tx.get<{ state: CellState }>('SELECT state FROM cells WHERE id = ?', [slot.cell_id]);
        if (cell?.state !== 'live') throw new Again();
        const taken = await tx.run('UPDATE cell_slots SET run_kind = ?, run_id = ? WHERE cell_id = ? AND slot = ? AND run_id IS NULL', [runKind, runId, slot.cell_id, slot.slot]);
        if (taken.changes !== 1) throw new Again();
        // A concurrent placement of the same run may have committed first (PostgreSQL waits for
        // it here): then this one gives its slot back (rollback) and returns that one (again).
        const row = await tx.get<{ created_at: number }>(
          `INSERT INTO placements (run_kind, run_id, cell_id, slot, learner_id, created_at, placed_at, lost, lost_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL)
           ON CONFLICT (run_kind, run_id) DO UPDATE SET cell_id = excluded.cell_id, slot = excluded.slot, learner_id = excluded.learner_id,
             created_at = excluded.created_at, placed_at = excluded.placed_at, lost = 0, lost_at = NULL WHERE placements.lost = 1
           RETURNING created_at`,
          [runKind, runId, slot.cell_id, slot.slot, learnerId, at, at],
        );
        if (!row) throw new Again();
        return { runKind, runId, cellId: slot.cell_id, cellUrl: slot.url, slot: slot.slot, learnerId, createdAt: at, placedAt: at, lost: false, fresh: true };
      });
    },

    /**
     * The run ended (its cluster given back): its slot is free again. `ifPlacedAt`: only if no
     * front placed the run since then (a cell giving back an idle learner's slot; false otherwise).
     */
    async release(runId: string, runKind: RunKind = 'lab', ifPlacedAt?: number): Promise<boolean> {
      return atomically(async (tx) => {
        const gone = await tx.get<{ cell_id: string; slot: number; lost: number }>(
          `DELETE FROM placements WHERE run_kind = ? AND run_id = ?${ifPlacedAt === undefined ? '' : ' AND placed_at = ?'} RETURNING cell_id, slot, lost`,
          ifPlacedAt === undefined ? [runKind, runId] : [runKind, runId, ifPlacedAt],
        );
        if (!gone) return false;
        if (gone.lost === 0) {
          await tx.run('UPDATE cell_slots SET run_kind = NULL, run_id = NULL WHERE cell_id = ? AND slot = ? AND run_kind = ? AND run_id = ?', [gone.cell_id, gone.slot, runKind, runId]);
          // A slot above a lowered capacity stays only while taken.
          await tx.run('DELETE FROM cell_slots WHERE cell_id = ? AND slot = ? AND run_id IS NULL AND slot > (SELECT capacity FROM cells WHERE id = ?)', [gone.cell_id, gone.slot, gone.cell_id]);
        }
        return true;
      });
    },

    /**
     * Cells whose heartbeat is older than `expireAfterMs` become gone and their placements lost.
     * Any front may run it on a timer; two at once mark each cell once. `watchedSince`: when the
     * caller began watching the registry without a gap (frontUpkeep); a cell's silence counts only
     * from then, since a cell that could not heartbeat while the database was down, or while no
     * front was looking, was not seen to stop. The statement runs either way (a probe of the database).
     */
    async expire({ watchedSince }: { watchedSince?: number } = {}): Promise<{ cells: string[]; lost: number }> {
      const at = now();
      const cutoff = watchedSince !== undefined && watchedSince > at - expireAfterMs ? Number.MIN_SAFE_INTEGER : at - expireAfterMs;
      return atomically(async (tx) => {
        const stale = await tx.all<{ id: string }>("UPDATE cells SET state = 'gone' WHERE state <> 'gone' AND heartbeat_at < ? RETURNING id", [cutoff]);
        let lost = 0;
        for (const { id } of stale) lost += await loseCell(tx, id, at);
        return { cells: stale.map((c) => c.id).sort(), lost };
      });
    },

    /** The run's placement (lost or not), or undefined: where a front proxies its sockets. */
    async placementOf(runId: string, runKind: RunKind = 'lab'): Promise<Placement | undefined> {
      const row = await store.get<PlacementRow>(`${PLACEMENT} WHERE p.run_kind = ? AND p.run_id = ?`, [runKind, runId]);
      return row && toPlacement(row);
    },

    /** Which of these runs are placed on a live cell (not lost): a front's class dashboard offers to watch those learners. */
    async placedOf(runIds: readonly string[], runKind: RunKind = 'lab'): Promise<Set<string>> {
      if (runIds.length === 0) return new Set();
      const rows = await store.all<{ run_id: string }>(`SELECT run_id FROM placements WHERE run_kind = ? AND lost = 0 AND run_id IN (${runIds.map(() => '?').join(', ')})`, [runKind, ...runIds]);
      return new Set(rows.map((row) => row.run_id));
    },

    /** The runs of a kind that were on the cell when it was lost (a front ends a lost cell's drills). */
    async lostOn(cellId: string, runKind: RunKind): Promise<Placement[]> {
      return (await store.all<PlacementRow>(`${PLACEMENT} WHERE p.cell_id = ? AND p.run_kind = ? AND p.lost = 1 ORDER BY p.slot`, [cellId, runKind])).map(toPlacement);
    },

    /** What a cell should be hosting (not lost), so a returning cell reaps everything else. */
    async placementsOn(cellId: string): Promise<Placement[]> {
      return (await store.all<PlacementRow>(`${PLACEMENT} WHERE p.cell_id = ? AND p.lost = 0 ORDER BY p.slot`, [cellId])).map(toPlacement);
    },

    /** Every cell with the slots its placements hold, by id (the operator's view). */
    async cells(): Promise<Cell[]> {
      const rows = await store.all<CellRow>(
        `SELECT c.id, c.url, c.capacity, c.state, c.heartbeat_at, (SELECT COUNT(*) FROM placements p WHERE p.cell_id = c.id AND p.lost = 0) AS used
         FROM cells c ORDER BY c.id`,
      );
      return rows.map((r) => ({ id: r.id, url: r.url, capacity: r.capacity, state: r.state, heartbeatAt: r.heartbeat_at, used: r.used }));
    },
  };
}

export type CellRegistry = ReturnType<typeof cellRegistry>;
