import type { Migration } from '../store/database.ts';

/**
 * Drills: the drill (its clock as persisted fields, so it survives restarts), participants, the
 * shared log (seq per drill, strictly increasing), each scripted inject's fate (fired at most
 * once), the scoreboard's first greens, expectations and the team's investigation answers.
 */
export const drillMigrations: readonly Migration[] = [
  {
    module: 'drills',
    version: 1,
    name: 'drills, participants, terminals, log, injects, scoreboard, expectations, answers',
    sql: `
      CREATE TABLE drills (
        id TEXT PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        scenario TEXT NOT NULL,
        roles TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        facilitator_sha256 TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT,
        -- the clock: elapsed_ms at the last transition, plus wall time since running_since (epoch ms) while running
        elapsed_ms INTEGER NOT NULL DEFAULT 0,
        running_since INTEGER,
        seed TEXT NOT NULL,
        cluster_name TEXT,
        cluster_status TEXT NOT NULL,
        cluster_message TEXT NOT NULL DEFAULT '',
        -- the after-action report (DrillReport JSON), built once when the drill ends
        report TEXT
      );
      CREATE INDEX drills_state ON drills (state);
      CREATE TABLE drill_participants (
        id TEXT PRIMARY KEY,
        drill_id TEXT NOT NULL REFERENCES drills(id),
        learner_id TEXT NOT NULL REFERENCES learners(id),
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        terminal_session_id TEXT,
        UNIQUE (drill_id, learner_id),
        UNIQUE (drill_id, name)
      );
      CREATE TABLE drill_terminals (
        drill_id TEXT NOT NULL REFERENCES drills(id),
        participant_id TEXT NOT NULL REFERENCES drill_participants(id),
        session_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        PRIMARY KEY (drill_id, session_id)
      );
      CREATE TABLE drill_log (
        drill_id TEXT NOT NULL REFERENCES drills(id),
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        participant_id TEXT,
        author_name TEXT,
        author_role TEXT,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        -- for the report only (attack outcomes, inject ids); never sent during the drill
        detail TEXT,
        PRIMARY KEY (drill_id, seq)
      );
      CREATE TABLE drill_injects (
        drill_id TEXT NOT NULL REFERENCES drills(id),
        inject_id TEXT NOT NULL,
        -- pending → firing → fired | skipped | failed; only pending may move, so none fires twice
        status TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (drill_id, inject_id)
      );
      CREATE TABLE drill_scores (
        drill_id TEXT NOT NULL REFERENCES drills(id),
        step TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        criteria TEXT NOT NULL,
        passed_at TEXT,
        t_ms INTEGER,
        PRIMARY KEY (drill_id, step)
      );
      CREATE TABLE drill_expectations (
        drill_id TEXT NOT NULL REFERENCES drills(id),
        expectation_id TEXT NOT NULL,
        met INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (drill_id, expectation_id)
      );
      CREATE TABLE drill_answers (
        drill_id TEXT NOT NULL REFERENCES drills(id),
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        participant_id TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (drill_id, question)
      );
    `,
  },
  {
    module: 'drills',
    version: 2,
    name: 'terminals allowed before the start; when each finding was first written',
    sql: `
      -- 1 when the facilitator opened the terminals before starting the clock
      ALTER TABLE drills ADD COLUMN terminals_early INTEGER NOT NULL DEFAULT 0;
      -- the first time the question got a non-empty answer (time to detect), kept across later edits
      ALTER TABLE drill_answers ADD COLUMN first_at TEXT;
      UPDATE drill_answers SET first_at = at WHERE answer != '';
    `,
  },
  {
    module: 'drills',
    version: 3,
    name: 'the log\'s last seq kept on the drill; participant names unique whatever their case',
    sql: `
      -- Appending takes the next seq from here with an UPDATE, which locks the drill's row until
      -- the entry commits: seqs are handed out in commit order, never twice (two processes too).
      ALTER TABLE drills ADD COLUMN log_seq INTEGER NOT NULL DEFAULT 0;
      UPDATE drills SET log_seq = COALESCE((SELECT MAX(seq) FROM drill_log WHERE drill_log.drill_id = drills.id), 0);
      -- "Alice" and "alice" joining at once: the check before the insert cannot see the other.
      CREATE UNIQUE INDEX drill_participants_name ON drill_participants (drill_id, lower(name));
    `,
  },
  {
    module: 'drills',
    version: 4,
    name: 'drill terminals found by their session',
    // A front routes every terminal socket by asking whether its session is a drill's (front/drill-front.ts).
    sql: 'CREATE INDEX drill_terminals_session ON drill_terminals (session_id)',
  },
];
