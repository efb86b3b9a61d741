/**
 * A database of its own on the postgres project's server (tests/postgres/global-setup.ts), for a
 * test that starts real server processes on it; `drop()` removes it, connections and all.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** `server`: the PostgreSQL to make it on (default: the postgres project's). */
export async function freshDatabase(prefix: string, server: string = inject('postgresUrl')): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
