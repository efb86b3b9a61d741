import type { Migration } from '../store/database.ts';

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
];
