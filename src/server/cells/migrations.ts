import type { Migration } from '../store/database.ts';

/**
 * Cells (the processes that host clusters, terminals and drill clocks) and which cell hosts which
 * lab run or drill (registry.ts). Times are epoch milliseconds from the caller's clock.
 */
export const cellMigrations: Migration[] = [
  {
    module: 'cells',
    version: 1,
    name: 'cells, their slots and placements',
    sql: `
      CREATE TABLE cells (
        id TEXT PRIMARY KEY,
        -- where fronts reach it (its internal URL, never shown to a learner)
        url TEXT NOT NULL,
        capacity INTEGER NOT NULL CHECK (capacity >= 0),
        state TEXT NOT NULL CHECK (state IN ('live', 'draining', 'gone')),
        heartbeat_at INTEGER NOT NULL,
        registered_at INTEGER NOT NULL
      );
      -- One row per slot a cell offers (1..capacity). Placing a run takes a free slot; the slot
      -- rows are what concurrent placers lock (FOR UPDATE SKIP LOCKED), each taking another.
      CREATE TABLE cell_slots (
        cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
        slot INTEGER NOT NULL CHECK (slot >= 1),
        -- slot / capacity: taking free slots lowest first fills cells in proportion to their capacity
        fill REAL NOT NULL,
        run_kind TEXT,
        run_id TEXT,
        PRIMARY KEY (cell_id, slot)
      );
      CREATE INDEX cell_slots_free ON cell_slots (cell_id, fill, slot) WHERE run_id IS NULL;
      -- Which cell hosts a run (a lab run's id or a drill's id). A lost placement's cell went away:
      -- the run's progress stays in the lab or drill tables and placing it again picks a live cell.
      CREATE TABLE placements (
        run_kind TEXT NOT NULL CHECK (run_kind IN ('lab', 'drill')),
        run_id TEXT NOT NULL,
        cell_id TEXT NOT NULL REFERENCES cells(id),
        slot INTEGER NOT NULL,
        learner_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        lost INTEGER NOT NULL DEFAULT 0 CHECK (lost IN (0, 1)),
        lost_at INTEGER,
        PRIMARY KEY (run_kind, run_id)
      );
      CREATE INDEX placements_cell ON placements (cell_id, lost);
    `,
  },
  {
    module: 'cells',
    version: 2,
    name: 'free slots by fill across cells',
    // place() takes the free slot of lowest fill over all live cells (a burst spreads over them).
    sql: 'CREATE INDEX cell_slots_free_by_fill ON cell_slots (fill, cell_id, slot) WHERE run_id IS NULL',
  },
  {
    module: 'cells',
    version: 3,
    name: 'when a front last routed a learner to their placement',
    // A cell gives an idle learner's slot back only if no front placed them since it looked: a
    // Start on its way to the cell keeps the slot (cell-membership.ts).
    sql: `
      ALTER TABLE placements ADD COLUMN placed_at INTEGER NOT NULL DEFAULT 0;
      UPDATE placements SET placed_at = created_at;
    `,
  },
];
