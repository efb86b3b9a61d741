/**
 * The backends a store-level test runs on: `describe.each(testStores())`. The unit project runs
 * them on SQLite (a temp file, removed afterwards); the postgres project (its global setup starts
 * a throwaway server with scripts/postgres.sh) runs the same tests on PostgreSQL, each store in a
 * database of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, inject } from 'vitest';
import { migrateStore, type Migration } from './database.ts';
import { allMigrations } from './migrations.ts';
import { postgresStore } from './postgres-store.ts';
import type { SqlStore } from './sql-store.ts';
import { openSqliteDatabase, sqliteStore } from './sqlite-store.ts';

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  /** A new, empty store with `migrations` applied (every module's by default); `close` deletes it. */
  open(migrations?: readonly Migration[]): Promise<SqlStore>;
  /** PostgreSQL only: `count` stores on one new database, migrating at the same time (processes starting together). */
  openTogether?(count: number, migrations: readonly Migration[]): Promise<SqlStore[]>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

const sqlite: TestBackend = {
  name: 'sqlite',
  async open(migrations = allMigrations) {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-store-'));
    const store = sqliteStore(openSqliteDatabase(path.join(dir, 'irlab.db')));
    const close = store.close;
    const removing: SqlStore = {
      ...store,
      close: async () => {
        await close();
        await rm(dir, { recursive: true, force: true });
      },
    };
    try {
      await migrateStore(removing, migrations);
    } catch (error) {
      await removing.close();
      throw error;
    }
    return removing;
  },
};

/** A URL's database replaced by `name`. */
const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

function postgres(url: string): TestBackend {
  return {
    name: 'postgres',
    async open(migrations = allMigrations) {
      const name = `irlab_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const store = postgresStore({ url: withDatabase(url, name), max: 4, retryForMs: 2000 });
      const dropping: SqlStore & { url: string } = {
        ...store,
        url: withDatabase(url, name),
        close: async () => {
          await store.close();
          const dropper = new pg.Client({ connectionString: url });
          await dropper.connect();
          try {
            await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          } finally {
            await dropper.end();
          }
        },
      };
      try {
        await migrateStore(dropping, migrations);
      } catch (error) {
        await dropping.close();
        throw error;
      }
      return dropping;
    },
    async openTogether(count, migrations) {
      const first = await this.open([]);
      const url0 = (first as SqlStore & { url?: string }).url!;
      const others = Array.from({ length: count - 1 }, () => postgresStore({ url: url0, max: 2, retryForMs: 2000 }));
      const all = [first, ...others];
      await Promise.all(all.map((s) => migrateStore(s, migrations)));
      return all;
    },
  };
}

/** The backends this project tests: PostgreSQL in the postgres project, SQLite otherwise. */
export function testStores(): TestBackend[] {
  const url = inject('postgresUrl') as string | undefined;
  return url ? [postgres(url)] : [sqlite];
}

/**
 * An opener whose stores are closed after each test (call it at the top of a file or describe):
 * `const open = openedPerTest(); ... const store = await open(backend);`.
 */
export function openedPerTest(): (backend: TestBackend) => Promise<SqlStore> {
  const opened: SqlStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  return async (backend) => {
    const store = await backend.open();
    opened.push(store);
    return store;
  };
}
