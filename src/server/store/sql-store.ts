/**
 * The one asynchronous store interface every module writes to, with two backends: SQLite
 * (`node:sqlite`, one file, the embedded default; sqlite-store.ts) and PostgreSQL (`pg`, a pool,
 * for several processes sharing state; postgres-store.ts).
 *
 * SQL is written once, with `?` placeholders, in the subset both dialects run the same way:
 *   - ids are TEXT made by the caller (no identity columns, so no "last insert id" to fetch);
 *   - times are ISO-8601 TEXT (or epoch milliseconds as INTEGER) passed in from an injected clock,
 *     never `now()` / `datetime('now')`;
 *   - booleans are INTEGER 0/1 (SQLite has no BOOLEAN; PostgreSQL stores them in a BIGINT);
 *   - `INSERT ... ON CONFLICT (...) DO NOTHING | DO UPDATE SET x = excluded.x` and `RETURNING`
 *     (both run them; never `INSERT OR IGNORE` / `INSERT OR REPLACE`, SQLite only);
 *   - unquoted column aliases in snake_case or lower case (PostgreSQL folds `AS fooBar` to
 *     `foobar`), `COALESCE` not `IFNULL`, `MAX(a, b)` only through `dialect.greatest`;
 *   - no `rowid`, no `PRAGMA`, no `sqlite_master` outside the SQLite backend itself.
 * What really differs goes through `store.dialect` (a few documented helpers below) and, for
 * migrations, through a migration's own `postgres` text (database.ts).
 */
import { StatusError } from '../../lib/error-status.ts';

/** A value a statement takes: what both drivers bind the same way. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/** What differs between the two dialects, kept to the few things the modules need. */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** The larger of two values in one row (`MAX(a, b)` in SQLite, `GREATEST(a, b)` in PostgreSQL). */
  greatest(a: string, b: string): string;
  /**
   * A group's values joined with commas (`group_concat` / `string_agg`), each once when `distinct`;
   * `expr` must be text. (SQLite's DISTINCT form takes no separator, so the comma is fixed.)
   */
  groupConcat(expr: string, options?: { distinct?: boolean }): string;
  /**
   * The row-locking clause a transaction's SELECT ends with (after ORDER BY and LIMIT):
   * PostgreSQL's `FOR UPDATE` / `FOR SHARE`, `OF <alias>` to lock one table's rows of a join,
   * `SKIP LOCKED` to pass over rows another transaction holds (concurrent workers each take a
   * different row). SQLite has no row locks and needs none: a transaction there holds the whole
   * database's write lock from its BEGIN IMMEDIATE (sqlite-store.ts), so it gives '' and the
   * query reads as if every row were locked. Use it only inside `transaction`.
   */
  lockRows(mode: 'update' | 'share', options?: { of?: string; skipLocked?: boolean }): string;
}

/** The queries a module runs: on the store itself, or inside one of its transactions. */
export interface SqlQueries {
  readonly dialect: Dialect;
  /** Every row the statement returns. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement for its effect (INSERT, UPDATE, DELETE). */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /** Statements without parameters, separated by `;` (migrations, tests' fixtures). */
  exec(sql: string): Promise<void>;
}

export interface SqlStore extends SqlQueries {
  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back when
   * it throws. Queries made outside it (on the store) never run inside it. Keep it short: on SQLite
   * every other query waits for it.
   */
  transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A value neither backend stores the same way: PostgreSQL's text cannot hold U+0000 (its driver
 * refuses the whole statement), SQLite would keep it. Refused on both, before the statement runs,
 * as the caller's mistake (400): a learner's text with a NUL in it is input to reject, not a
 * server error.
 */
export class StoreInputError extends StatusError {
  constructor(message: string) {
    super(message, 400);
    this.name = 'StoreInputError';
  }
}

/** `params`, once none of them is text holding U+0000 (StoreInputError otherwise). */
export function checkedParams(params: readonly SqlValue[]): readonly SqlValue[] {
  for (const value of params) {
    if (typeof value === 'string' && value.includes('\u0000')) throw new StoreInputError('text with a NUL character (U+0000) cannot be stored: remove it and send again');
  }
  return params;
}

/**
 * `?` placeholders to PostgreSQL's `$1, $2, ...`, leaving `?` inside quoted strings, quoted
 * identifiers and comments alone.
 */
export function numberedPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') out += `$${++n}`;
    else out += c;
  }
  return out;
}
