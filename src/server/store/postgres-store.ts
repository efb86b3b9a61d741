/**
 * The PostgreSQL backend of the async store, through `pg` (pure JavaScript): a pool of
 * connections, each transaction on one client. Integers come back as numbers (BIGINT and
 * NUMERIC would otherwise be strings), as SQLite gives them.
 *
 * Retries: a connection error is retried only where no statement can have applied twice: getting
 * a client (nothing was sent yet), BEGIN, and a read-only SELECT. A write or a COMMIT that lost
 * its connection may or may not have applied, so its error reaches the caller.
 */
import pg from 'pg';
import { StatusError } from '../../lib/error-status.ts';
import { checkedParams, numberedPlaceholders, type Dialect, type RunResult, type SqlQueries, type SqlStore, type SqlValue } from './sql-store.ts';

export const postgresDialect: Dialect = {
  name: 'postgres',
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  groupConcat: (expr, options) => `string_agg(${options?.distinct ? 'DISTINCT ' : ''}${expr}, ',')`,
  lockRows: (mode, options) => ` FOR ${mode === 'update' ? 'UPDATE' : 'SHARE'}${options?.of ? ` OF ${options.of}` : ''}${options?.skipLocked ? ' SKIP LOCKED' : ''}`,
};

const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) && Number.isInteger(n)) throw new Error(`store: the integer ${text} is beyond what JavaScript numbers hold exactly`);
  return n;
};
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? toNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Errors after which the connection is gone (network, server shutting down or starting up). */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT', '57P01', '57P02', '57P03'].includes(e.code)) return true;
    if (e.code.startsWith('08')) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e?.message ?? '');
}

/**
 * The database could not be reached in time, or the connection broke while a write ran (it may or
 * may not have been applied): 503, with what to do, instead of the driver's message as a 500.
 */
export class DatabaseUnavailableError extends StatusError {
  constructor(cause: unknown) {
    super('the database did not answer: this request may not have been saved; reload to see, then try again', 503, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

const readOnly = (sql: string) => /^\s*SELECT\b/i.test(sql) && !/\bFOR\s+(UPDATE|SHARE|NO KEY UPDATE|KEY SHARE)\b/i.test(sql);

export interface PostgresOptions {
  /** postgres://user:password@host:port/database (or ?host=/socket/dir). */
  url: string;
  /** Pool size (default 10). */
  max?: number;
  /** How long connection errors are retried before the caller gets one (default 30 s). */
  retryForMs?: number;
  /** Waits between retries (tests pass a fast one). */
  delay?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface PostgresStore extends SqlStore {
  readonly pool: pg.Pool;
}

export function postgresStore(options: PostgresOptions): PostgresStore {
  const pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 10, types, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection (a server restart) must not end the process; the pool
  // drops it and the next query gets a fresh one.
  pool.on('error', () => {});
  const retryForMs = options.retryForMs ?? 30_000;
  const delay = options.delay ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;

  /** Runs `attempt` again after a connection error while `retriable` says nothing can apply twice. */
  async function retrying<T>(attempt: () => Promise<T>, retriable: (error: unknown) => boolean): Promise<T> {
    const deadline = now() + retryForMs;
    for (let wait = 50; ; wait = Math.min(wait * 2, 2000)) {
      try {
        return await attempt();
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        if (!retriable(error) || now() + wait > deadline) throw new DatabaseUnavailableError(error);
        await delay(wait);
      }
    }
  }

  class NotSent extends Error {}
  /** A client, or NotSent wrapping the connection error (nothing was sent). */
  const connect = async (): Promise<pg.PoolClient> => {
    try {
      return await pool.connect();
    } catch (error) {
      throw Object.assign(new NotSent((error as Error).message, { cause: error }), { code: (error as { code?: string }).code ?? 'ECONNREFUSED' });
    }
  };

  const on = (client: pg.ClientBase): SqlQueries => ({
    dialect: postgresDialect,
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numberedPlaceholders(sql), checkedParams(params) as unknown[])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numberedPlaceholders(sql), checkedParams(params) as unknown[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> => ({ changes: (await client.query(numberedPlaceholders(sql), checkedParams(params) as unknown[])).rowCount ?? 0 }),
    exec: async (sql: string) => {
      await client.query(sql);
    },
  });

  /** pg refuses a client that already lost its connection before sending anything. */
  const refusedUnsent = (error: unknown) => /not queryable/i.test((error as Error)?.message ?? '');

  /** One statement on a pooled client; a client that failed is destroyed, not returned to the pool. */
  const once = <T>(sql: string, work: (q: ReturnType<typeof on>) => Promise<T>): Promise<T> =>
    retrying(
      async () => {
        const client = await connect();
        try {
          const value = await work(on(client));
          client.release();
          return value;
        } catch (error) {
          client.release(isConnectionError(error) ? (error as Error) : undefined);
          throw error;
        }
      },
      (error) => error instanceof NotSent || refusedUnsent(error) || readOnly(sql),
    );

  return {
    pool,
    dialect: postgresDialect,
    all: (sql, params) => once(sql, (q) => q.all(sql, params)),
    get: (sql, params) => once(sql, (q) => q.get(sql, params)),
    run: (sql, params) => once(sql, (q) => q.run(sql, params)),
    exec: (sql) => once(sql, (q) => q.exec(sql)),
    async transaction(work) {
      const client = await retrying(async () => {
        const c = await connect();
        try {
          await c.query('BEGIN');
          return c;
        } catch (error) {
          c.release(error as Error);
          throw Object.assign(new NotSent((error as Error).message, { cause: error }), { code: (error as { code?: string }).code });
        }
      }, (error) => error instanceof NotSent);
      try {
        const value = await work(on(client));
        await client.query('COMMIT');
        client.release();
        return value;
      } catch (error) {
        if (isConnectionError(error)) {
          client.release(error as Error);
          throw new DatabaseUnavailableError(error);
        }
        await client.query('ROLLBACK').catch(() => {});
        client.release();
        throw error;
      }
    },
    close: () => pool.end(),
  };
}
