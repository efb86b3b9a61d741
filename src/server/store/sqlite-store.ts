/**
 * The SQLite backend of the async store (`node:sqlite`): one file, WAL, foreign keys on, as the
 * store always was. node:sqlite is synchronous and there is one connection, so a transaction that
 * awaits between its statements would let any other query slip into its open BEGIN: an async lock
 * serialises them. While no transaction holds it, a query runs at once; while one does, queries
 * queue behind it and run after its COMMIT or ROLLBACK.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { checkedParams, type Dialect, type RunResult, type SqlQueries, type SqlStore, type SqlValue } from './sql-store.ts';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  greatest: (a, b) => `MAX(${a}, ${b})`,
  groupConcat: (expr, options) => `group_concat(${options?.distinct ? 'DISTINCT ' : ''}${expr})`,
  // The transaction already holds the database's write lock (BEGIN IMMEDIATE): nothing to add.
  lockRows: () => '',
};

export interface SqliteStore extends SqlStore {
  /** The one connection, for modules still written against the synchronous API (see database.ts). */
  readonly database: DatabaseSync;
}

/** Prepared statements are cached by their text (the modules' SQL is a fixed set of literals). */
const STATEMENT_CACHE_LIMIT = 1000;

/** Opens (creating it and its directory) the database file, or `:memory:`. */
export function openSqliteDatabase(file: string): DatabaseSync {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
  return db;
}

export function sqliteStore(db: DatabaseSync): SqliteStore {
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= STATEMENT_CACHE_LIMIT) statements.clear();
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const queries: SqlQueries = {
    dialect: sqliteDialect,
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).all(...checkedParams(params)) as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).get(...checkedParams(params)) as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> => ({ changes: Number(prepare(sql).run(...checkedParams(params)).changes) }),
    exec: async (sql: string) => db.exec(sql),
  };

  // The lock: `tail` settles when the last holder releases; `held` counts holders and waiters.
  let tail: Promise<void> = Promise.resolve();
  let held = 0;
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    held++;
    const result = tail.then(work);
    tail = result.then(
      () => {
        held--;
      },
      () => {
        held--;
      },
    );
    return result;
  };
  const outside = <T>(work: () => Promise<T>): Promise<T> => (held === 0 ? work() : exclusive(work));

  return {
    database: db,
    dialect: sqliteDialect,
    all: (sql, params) => outside(() => queries.all(sql, params)),
    get: (sql, params) => outside(() => queries.get(sql, params)),
    run: (sql, params) => outside(() => queries.run(sql, params)),
    exec: (sql) => outside(() => queries.exec(sql)),
    transaction: (work) =>
      exclusive(async () => {
        // IMMEDIATE takes the write lock at BEGIN: another process's writer makes it wait
        // (busy_timeout) instead of failing at the first write.
        db.exec('BEGIN IMMEDIATE');
        try {
          const value = await work(queries);
          db.exec('COMMIT');
          return value;
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    close: () =>
      exclusive(async () => {
        statements.clear();
        if (db.isOpen) db.close();
      }),
  };
}
