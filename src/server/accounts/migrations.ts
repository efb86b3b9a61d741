import type { Migration } from '../store/database.ts';

/** OpenID Connect sign-ins under way: what the callback must check, kept server-side, used once. */
export const accountMigrations: Migration[] = [
  {
    module: 'accounts',
    version: 1,
    name: 'pending OpenID Connect sign-ins',
    sql: `
      CREATE TABLE oidc_sign_ins (
        -- SHA-256 of the state sent to the provider (the browser holds the state in a cookie)
        state_hash TEXT PRIMARY KEY,
        code_verifier TEXT NOT NULL,
        nonce TEXT NOT NULL,
        return_to TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];
