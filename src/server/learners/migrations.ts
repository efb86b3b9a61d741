import type { Migration } from '../store/database.ts';

export const learnerMigrations: Migration[] = [
  {
    module: 'learners',
    version: 1,
    name: 'learners and their cookie sessions',
    sql: `
      CREATE TABLE learners (
        id TEXT PRIMARY KEY,
        display_name TEXT,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
      );
      -- The cookie holds a random session token; only its SHA-256 is stored, so a copy of the
      -- database does not let anyone act as a learner.
      CREATE TABLE learner_sessions (
        token_hash TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
      );
      CREATE INDEX learner_sessions_learner ON learner_sessions(learner_id);
    `,
  },
];
