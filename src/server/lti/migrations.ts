import type { Migration } from '../store/database.ts';

export const ltiMigrations: Migration[] = [
  {
    module: 'lti',
    version: 1,
    name: 'LTI logins, deep-linking pickers, grade links and the score outbox',
    sql: `
      -- A login begun by a platform, waiting for its launch: one use, expiring. Only the state's
      -- SHA-256 is kept; the nonce must come back inside the signed id_token.
      CREATE TABLE lti_logins (
        state_hash TEXT PRIMARY KEY,
        nonce TEXT NOT NULL,
        issuer TEXT NOT NULL,
        client_id TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
      -- An instructor's Deep Linking request, waiting for the pick (one use, expiring).
      CREATE TABLE lti_deep_links (
        token_hash TEXT PRIMARY KEY,
        issuer TEXT NOT NULL,
        client_id TEXT NOT NULL,
        deployment_id TEXT NOT NULL,
        return_url TEXT NOT NULL,
        data TEXT,
        accept_multiple INTEGER NOT NULL,
        wants_line_item INTEGER NOT NULL,
        expires_at TEXT NOT NULL
      );
      -- Where a learner's score for an activity goes: the AGS claim of their latest launch of it.
      CREATE TABLE lti_grade_links (
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        activity_kind TEXT NOT NULL CHECK (activity_kind IN ('lab', 'quiz')),
        activity_slug TEXT NOT NULL,
        issuer TEXT NOT NULL,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        lineitem TEXT NOT NULL,
        scopes TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (learner_id, activity_kind, activity_slug, issuer, client_id)
      );
      -- Scores not yet accepted by the platform: drained with backoff, deleted once delivered.
      CREATE TABLE lti_score_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        issuer TEXT NOT NULL,
        client_id TEXT NOT NULL,
        lineitem TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        last_error TEXT,
        failed_at TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX lti_score_outbox_due ON lti_score_outbox(failed_at, next_at);
    `,
  },
  {
    module: 'lti',
    version: 2,
    name: 'the tool key shared by every server on one PostgreSQL database',
    // One row. The private key of irlab as an LTI tool, PEM: as secret as the database's password.
    sql: `
      CREATE TABLE lti_tool_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pem TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];
