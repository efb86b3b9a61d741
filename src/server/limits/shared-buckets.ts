/**
 * Token buckets in the store (rate-limit.ts's `RateLimiter`, shared): every process on one
 * database spends the same budgets, so with several fronts and cells a learner or an address gets
 * its budget once, not once per process (docs/security.md, "Rate limits and query budgets").
 *
 * One row per bucket. A charge is one conditional upsert per key
 *   INSERT ... ON CONFLICT (key) DO UPDATE SET tokens = <refilled> - 1 ... WHERE <refilled> >= 1 RETURNING
 * which the database applies atomically (PostgreSQL locks the row, and a concurrent insert of the
 * same new key waits and takes the update path; SQLite holds its write lock): no two processes can
 * both spend the last token. An action charged to several keys (this learner, this address) runs
 * its upserts in one transaction, keys in one global order (two charges never wait on each other
 * in a cycle), and rolls back when any key has no room: all or nothing, as `RateLimiter.take`.
 * Refilling is continuous, computed as RateLimiter computes it, from the injected clock.
 *
 * Bounded: a bucket untouched for a whole window is full again, as good as absent; its row records
 * when (`full_at`) and is swept at most once a minute per process.
 */
import type { Migration } from '../store/database.ts';
import type { SqlQueries, SqlStore } from '../store/sql-store.ts';
import type { Admission, Charge } from './rate-limit.ts';

export const rateBucketMigrations: Migration[] = [
  {
    module: 'limits',
    version: 1,
    name: 'token buckets shared by every process on the database',
    sql: `
      CREATE TABLE rate_buckets (
        key TEXT PRIMARY KEY,
        tokens REAL NOT NULL,
        -- epoch ms of the last charge (the caller's clock)
        at INTEGER NOT NULL,
        -- epoch ms from which the bucket is full again (a window after the last charge): swept
        full_at INTEGER NOT NULL
      );
      CREATE INDEX rate_buckets_full_at ON rate_buckets (full_at);
    `,
  },
];

/** Where a rate limiter keeps its buckets: in memory (one process) or in the store (shared). */
export interface RateBuckets {
  /** Takes one action from every charge's budget, or from none when any budget is used up. */
  take(charges: readonly Charge[]): Promise<Admission>;
}

const SWEEP_EVERY_MS = 60_000;

/** Thrown inside the transaction to roll back the keys charged before the one with no room. */
class NoRoom {
  readonly admission: Admission;
  constructor(admission: Admission) {
    this.admission = admission;
  }
}

export function sharedBuckets(store: SqlStore, now: () => number = Date.now): RateBuckets & { sweep(): Promise<number> } {
  const d = store.dialect;
  // The bucket's tokens at the charge's time (`excluded.at`): `tokens + elapsed * limit / window`,
  // at most `limit`, computed as RateLimiter.tokens computes it. Parameters: limit, window.
  const gained = '(CASE WHEN excluded.at > rate_buckets.at THEN excluded.at - rate_buckets.at ELSE 0 END) * CAST(? AS DOUBLE PRECISION) / CAST(? AS DOUBLE PRECISION)';
  const refilled = `(CASE WHEN rate_buckets.tokens + ${gained} > CAST(? AS DOUBLE PRECISION) THEN CAST(? AS DOUBLE PRECISION) ELSE rate_buckets.tokens + ${gained} END)`;
  const refilledParams = (limit: number, windowMs: number) => [limit, windowMs, limit, limit, limit, windowMs];
  const charge = `INSERT INTO rate_buckets (key, tokens, at, full_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET tokens = ${refilled} - 1, at = ${d.greatest('rate_buckets.at', 'excluded.at')}, full_at = ${d.greatest('rate_buckets.full_at', 'excluded.full_at')}
    WHERE ${refilled} >= 1
    RETURNING tokens`;
  let sweptAt = 0;

  /** Charges one key; undefined when admitted, else when it has room again. */
  async function chargeOne(q: SqlQueries, { key, rate }: Charge, at: number): Promise<Admission | undefined> {
    const p = refilledParams(rate.limit, rate.windowMs);
    const row = await q.get(charge, [key, rate.limit - 1, at, at + rate.windowMs, ...p, ...p]);
    if (row) return undefined;
    const bucket = await q.get<{ tokens: number | string; at: number | string }>('SELECT tokens, at FROM rate_buckets WHERE key = ?', [key]);
    const tokens = Math.min(rate.limit, Number(bucket?.tokens ?? 0) + (Math.max(0, at - Number(bucket?.at ?? at)) * rate.limit) / rate.windowMs);
    return { ok: false, key, retryAfterMs: Math.ceil(((1 - tokens) * rate.windowMs) / rate.limit) };
  }

  return {
    async take(charges) {
      const at = now();
      // Keys in descending order: one global order (no two charges wait on each other in a cycle) that
      // takes `…:learner:` before `…:address:`, so the row many learners share (a classroom's one
      // address) is locked last and held the shortest.
      const active = charges.filter((c) => c.rate.limit > 0).sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
      if (at - sweptAt >= SWEEP_EVERY_MS) {
        sweptAt = at;
        await this.sweep();
      }
      if (active.length === 0) return { ok: true };
      if (active.length === 1) return (await chargeOne(store, active[0]!, at)) ?? { ok: true };
      try {
        return await store.transaction(async (tx) => {
          let refusal: Admission | undefined;
          // Every key is tried (a refusal names the one with the longest wait, as RateLimiter does).
          for (const c of active) {
            const refused = await chargeOne(tx, c, at);
            if (refused && !refused.ok && (!refusal || (!refusal.ok && refused.retryAfterMs > refusal.retryAfterMs))) refusal = refused;
          }
          if (refusal) throw new NoRoom(refusal);
          return { ok: true } as const;
        });
      } catch (error) {
        if (error instanceof NoRoom) return error.admission;
        throw error;
      }
    },

    /** Deletes the buckets that are full again; how many. */
    async sweep() {
      return (await store.run('DELETE FROM rate_buckets WHERE full_at <= ?', [now()])).changes;
    },
  };
}
