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
  {
    module: 'learners',
    version: 2,
    name: 'identities a learner signs in with',
    sql: `
      -- Who a learner is outside irlab: an OpenID Connect account, an LMS user (LTI), a name given
      -- with an event's join code. One learner may hold several; one identity is one learner.
      CREATE TABLE learner_identities (
        kind TEXT NOT NULL CHECK (kind IN ('oidc', 'lti', 'join-code')),
        -- The OIDC issuer, the LMS platform's issuer, or the class a join code belongs to.
        issuer TEXT NOT NULL,
        -- The issuer's stable id for the person (\`sub\`), never an e-mail address.
        subject TEXT NOT NULL,
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        email TEXT,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        PRIMARY KEY (kind, issuer, subject)
      );
      CREATE INDEX learner_identities_learner ON learner_identities(learner_id);
    `,
  },
];
