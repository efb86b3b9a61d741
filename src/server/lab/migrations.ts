import type { Migration } from '../store/database.ts';

/** Ends all but the newest going run of a learner's lab, then keeps it so (both dialects). */
const SUPERSEDE_AND_INDEX = `
      UPDATE lab_runs SET ended_reason = 'superseded', ended_at = (SELECT MIN(n.started_at) FROM lab_runs n WHERE n.learner_id = lab_runs.learner_id AND n.lab = lab_runs.lab AND n.attempt > lab_runs.attempt)
        WHERE ended_at IS NULL AND EXISTS (SELECT 1 FROM lab_runs n WHERE n.learner_id = lab_runs.learner_id AND n.lab = lab_runs.lab AND n.ended_at IS NULL AND n.attempt > lab_runs.attempt);
      CREATE UNIQUE INDEX lab_runs_one_going ON lab_runs (learner_id, lab) WHERE ended_at IS NULL;
      CREATE INDEX lab_runs_attempts ON lab_runs (learner_id, lab, attempt);
      CREATE INDEX lab_results_order ON lab_results (run_id, step, checked_at, seq);`;

/** Lab runs (one cluster each), check results, hints taken and answers given. */
export const labMigrations: readonly Migration[] = [
  {
    module: 'labs',
    version: 1,
    name: 'lab runs, results, hints and answers',
    sql: `
      CREATE TABLE lab_runs (
        id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL REFERENCES learners(id),
        lab TEXT NOT NULL,
        cluster TEXT NOT NULL,
        provider TEXT NOT NULL,
        seed TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT
      );
      CREATE INDEX lab_runs_learner ON lab_runs (learner_id, lab, ended_at);
      CREATE TABLE lab_results (
        run_id TEXT NOT NULL REFERENCES lab_runs(id),
        step TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        passed INTEGER NOT NULL,
        score REAL NOT NULL,
        criteria TEXT NOT NULL
      );
      CREATE INDEX lab_results_run ON lab_results (run_id, step, checked_at);
      CREATE TABLE lab_hints (
        run_id TEXT NOT NULL REFERENCES lab_runs(id),
        step TEXT NOT NULL,
        hint INTEGER NOT NULL,
        taken_at TEXT NOT NULL,
        PRIMARY KEY (run_id, step, hint)
      );
      CREATE TABLE lab_answers (
        run_id TEXT NOT NULL REFERENCES lab_runs(id),
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (run_id, question)
      );
    `,
  },
  {
    module: 'labs',
    version: 2,
    name: 'the audit policy the learner applied to the run\'s API server',
    sql: `ALTER TABLE lab_runs ADD COLUMN applied_policy_sha256 TEXT;`,
  },
  {
    module: 'labs',
    version: 3,
    name: 'what each check of an answer step cost (repeated checks cost points after a few free ones)',
    sql: `ALTER TABLE lab_results ADD COLUMN retry_cost REAL NOT NULL DEFAULT 0;`,
  },
  {
    module: 'labs',
    version: 4,
    name: 'a run whose cluster was gone got a fresh one: when, which it replaced, and why (the learner is told)',
    sql: `
      ALTER TABLE lab_runs ADD COLUMN recovered_at TEXT;
      ALTER TABLE lab_runs ADD COLUMN recovered_from TEXT;
      ALTER TABLE lab_runs ADD COLUMN recovered_reason TEXT;
    `,
  },
  {
    module: 'labs',
    version: 5,
    name: 'a run has a deadline (extendable up to a maximum) and says why it ended',
    sql: `
      ALTER TABLE lab_runs ADD COLUMN expires_at TEXT;
      ALTER TABLE lab_runs ADD COLUMN ended_reason TEXT;
      CREATE INDEX lab_runs_expiry ON lab_runs (ended_at, expires_at);
    `,
  },
  {
    module: 'labs',
    version: 6,
    name: 'the learner\'s case notes, kept with the run',
    sql: `
      CREATE TABLE lab_notes (
        run_id TEXT PRIMARY KEY REFERENCES lab_runs(id),
        text TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    module: 'labs',
    version: 7,
    name: 'an explicit order for runs and checks, and one going run per learner and lab',
    // rowid ordered runs and checks stored in the same millisecond, and one process's synchronous
    // calls kept Starts and checks from interleaving. Now a run has its attempt number, a check its
    // number within its run (counted on the run's row, which a check updates first: concurrent
    // checks of a run take turns), and at most one run of a lab goes per learner. Duplicates an
    // older server left going end, superseded by the newest.
    sql: `
      ALTER TABLE lab_runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE lab_runs ADD COLUMN checks_made INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE lab_results ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE lab_results SET seq = (SELECT COUNT(*) FROM lab_results r WHERE r.run_id = lab_results.run_id AND r.rowid <= lab_results.rowid);
      UPDATE lab_runs SET checks_made = (SELECT COUNT(*) FROM lab_results r WHERE r.run_id = lab_runs.id);
      UPDATE lab_runs SET attempt = (SELECT COUNT(*) FROM lab_runs p WHERE p.learner_id = lab_runs.learner_id AND p.lab = lab_runs.lab AND (p.started_at < lab_runs.started_at OR (p.started_at = lab_runs.started_at AND p.rowid <= lab_runs.rowid)));
      ${SUPERSEDE_AND_INDEX}
    `,
    // No rowid in PostgreSQL. Its lab tables were never written before this migration (the server
    // refused IRLAB_DATABASE_URL while labs used SQLite's synchronous API), so the backfill only
    // has to be well defined: ties go by step and id.
    postgres: `
      ALTER TABLE lab_runs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE lab_runs ADD COLUMN checks_made BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE lab_results ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
      UPDATE lab_results SET seq = o.n FROM (SELECT ctid AS at, row_number() OVER (PARTITION BY run_id ORDER BY checked_at, step) AS n FROM lab_results) o WHERE lab_results.ctid = o.at;
      UPDATE lab_runs SET checks_made = (SELECT COUNT(*) FROM lab_results r WHERE r.run_id = lab_runs.id);
      UPDATE lab_runs SET attempt = (SELECT COUNT(*) FROM lab_runs p WHERE p.learner_id = lab_runs.learner_id AND p.lab = lab_runs.lab AND (p.started_at < lab_runs.started_at OR (p.started_at = lab_runs.started_at AND p.id <= lab_runs.id)));
      ${SUPERSEDE_AND_INDEX}
    `,
  },
];
