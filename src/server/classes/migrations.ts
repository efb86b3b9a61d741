import type { Migration } from '../store/database.ts';

/** Classes an instructor runs: members, assignments, messages. */
export const classMigrations: readonly Migration[] = [
  {
    module: 'classes',
    version: 1,
    name: 'classes with a join code, their members, assignments and messages',
    sql: `
      CREATE TABLE classes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        -- Normalised (upper case, no dash); unique among open classes only, so a closed class's old
        -- code may come round again without letting anyone into the closed one.
        join_code TEXT NOT NULL,
        -- The instructor's learner id, or 'operator' (the instructor token without a learner cookie).
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        closed_at TEXT,
        -- A learner whose last check of the current step failed, on it longer than this, is flagged.
        stuck_after_seconds INTEGER NOT NULL DEFAULT 600
      );
      CREATE UNIQUE INDEX classes_open_code ON classes (join_code) WHERE closed_at IS NULL;
      CREATE TABLE class_members (
        class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        -- As typed at joining (length-limited, no control characters); rendered as text only.
        display_name TEXT NOT NULL,
        -- SHA-256 of the rejoin key shown once to a learner who joined by name: the second device's proof.
        rejoin_key_hash TEXT,
        joined_at TEXT NOT NULL,
        PRIMARY KEY (class_id, learner_id)
      );
      CREATE INDEX class_members_learner ON class_members (learner_id);
      CREATE TABLE class_assignments (
        class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('lab', 'quiz')),
        slug TEXT NOT NULL,
        due_at TEXT,
        assigned_at TEXT NOT NULL,
        PRIMARY KEY (class_id, kind, slug)
      );
      CREATE TABLE class_messages (
        id TEXT PRIMARY KEY,
        class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        -- NULL: to the whole class.
        learner_id TEXT REFERENCES learners(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        sent_at TEXT NOT NULL
      );
      CREATE INDEX class_messages_class ON class_messages (class_id, sent_at);
      CREATE TABLE class_message_dismissals (
        message_id TEXT NOT NULL REFERENCES class_messages(id) ON DELETE CASCADE,
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        PRIMARY KEY (message_id, learner_id)
      );
    `,
  },
  {
    module: 'classes',
    version: 2,
    name: 'members, assignments and messages keep their order by a per-class seq',
    // SQLite carries the order rowid gave so far (its only use of rowid); PostgreSQL starts empty.
    sql: `
      ALTER TABLE class_members ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE class_members SET seq = rowid;
      ALTER TABLE class_assignments ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE class_assignments SET seq = rowid;
      ALTER TABLE class_messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE class_messages SET seq = rowid;
    `,
    postgres: `
      ALTER TABLE class_members ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE class_assignments ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE class_messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
    `,
  },
  {
    module: 'classes',
    version: 3,
    name: 'when a class runs and how many learners to expect (warm pools are sized from it)',
    // ISO times like the other class columns; all three empty until the instructor says.
    sql: `
      ALTER TABLE classes ADD COLUMN starts_at TEXT;
      ALTER TABLE classes ADD COLUMN ends_at TEXT;
      ALTER TABLE classes ADD COLUMN expected_learners INTEGER;
      CREATE INDEX classes_schedule ON classes (starts_at, ends_at) WHERE starts_at IS NOT NULL;
    `,
  },
];
