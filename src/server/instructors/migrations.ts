import type { Migration } from '../store/database.ts';

/** Roles beyond learner (everyone is one): instructor and operator, granted to signed-in learners. */
export const instructorMigrations: Migration[] = [
  {
    module: 'instructors',
    version: 1,
    name: 'roles of signed-in learners',
    sql: `
      CREATE TABLE learner_roles (
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('instructor', 'operator')),
        granted_at TEXT NOT NULL,
        -- the learner who granted it, or 'instructor-token' for the operator's bootstrap
        granted_by TEXT NOT NULL,
        PRIMARY KEY (learner_id, role)
      );
    `,
  },
];
