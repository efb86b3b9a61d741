import type { Migration } from '../store/database.ts';

export const xapiMigrations: Migration[] = [
  {
    module: 'xapi',
    version: 1,
    name: 'the outbox of xAPI statements for the LRS',
    sql: `
      -- A statement is written here in the same call its learning event arrives, with the UUID the
      -- LRS will know it by, and sent from here in seq order; a delivered one is deleted. One the
      -- LRS refused (a 4xx other than 409 and 429) stays as 'failed' with the LRS's reason, for an
      -- operator (irlab xapi status; irlab xapi retry puts it back).
      CREATE TABLE xapi_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        statement_id TEXT NOT NULL UNIQUE,
        statement TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT,
        last_error TEXT
      );
      CREATE INDEX xapi_outbox_state ON xapi_outbox(state, seq);
      -- Totals an operator reads: statements delivered so far and when the last one was.
      CREATE TABLE xapi_totals (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        delivered INTEGER NOT NULL,
        last_delivered_at TEXT
      );
      INSERT INTO xapi_totals (id, delivered) VALUES (1, 0);
    `,
  },
  {
    module: 'xapi',
    version: 2,
    name: 'a sender claims outbox rows for a while before it sends them',
    sql: `
      -- Until this time one sender holds the row (it is sending it); NULL or past: anyone may
      -- claim it. Two senders (two processes) never send a row twice; one that died lets go when
      -- its claim runs out.
      ALTER TABLE xapi_outbox ADD COLUMN claimed_until TEXT;
    `,
  },
];
