/**
 * `npm run bench:budgets`: what one rate-budget charge costs (src/server/limits): in memory (the
 * embedded default, RateLimiter), and as token buckets in the store (shared-buckets.ts) on SQLite
 * (a WAL file in a temp directory) and on PostgreSQL (a throwaway server from Debian's binaries,
 * scripts/postgres.sh, on loopback TCP; or BENCH_DATABASE_URL, an empty database). Per backend,
 * BENCH_CHARGES (1,000) charges one at a time, p50 and p95 of: a charge to one key (an address:
 * a join without a learner), a charge to two keys (a learner and an address: one transaction),
 * and two-key charges from 4 stores (4 processes) with 25 callers at once. Budgets large enough
 * that every charge is admitted (the common case). Prints figures; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RateLimiter, type Charge } from '../src/server/limits/rate-limit.ts';
import { sharedBuckets, type RateBuckets } from '../src/server/limits/shared-buckets.ts';
import { migrateStore } from '../src/server/store/database.ts';
import { allMigrations } from '../src/server/store/migrations.ts';
import { postgresStore } from '../src/server/store/postgres-store.ts';
import type { SqlStore } from '../src/server/store/sql-store.ts';
import { openSqliteDatabase, sqliteStore } from '../src/server/store/sqlite-store.ts';
import { percentile } from './percentile.ts';

const CHARGES = Number(process.env.BENCH_CHARGES ?? 1000);
const STORES = 4;
const CALLERS = 25;
const script = path.resolve(import.meta.dirname, '../scripts/postgres.sh');
const rate = { limit: 1_000_000, windowMs: 600_000 };
const ms = (x: number) => `${x.toFixed(3).padStart(8)} ms`;

const address = (i: number): Charge => ({ key: `start:address:10.0.${i % 50}.1`, rate });
const learner = (i: number): Charge => ({ key: `start:learner:learner-${i}`, rate });

async function series(buckets: RateBuckets, charges: (i: number) => Charge[]): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CHARGES; i++) {
    const t = performance.now();
    const admission = await buckets.take(charges(i));
    times.push(performance.now() - t);
    if (!admission.ok) throw new Error(`charge ${i} refused: the bench's budgets are meant to admit every one`);
  }
  return times;
}

async function racing(all: RateBuckets[]): Promise<{ times: number[]; perSecond: number }> {
  const times: number[] = [];
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: STORES * CALLERS }, async () => {
    for (let i = next++; i < CHARGES; i = next++) {
      const started = performance.now();
      await all[i % all.length]!.take([learner(CHARGES + i), address(i)]);
      times.push(performance.now() - started);
    }
  }));
  return { times, perSecond: CHARGES / ((performance.now() - t) / 1000) };
}

function row(label: string, times: number[], extra = '') {
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`  ${label.padEnd(52)} p50 ${ms(percentile(sorted, 50))}  p95 ${ms(percentile(sorted, 95))}  (${times.length} charges${extra})`);
}

async function measure(name: string, all: RateBuckets[]): Promise<void> {
  console.log(`\n${name}`);
  row('one key (an address)', await series(all[0]!, (i) => [address(i)]));
  row('two keys (a learner and an address)', await series(all[0]!, (i) => [learner(i), address(i)]));
  if (all.length > 1) {
    const { times, perSecond } = await racing(all);
    row(`two keys, ${all.length} stores, ${STORES * CALLERS} callers at once`, times, `, ${perSecond.toFixed(0)}/s`);
  }
}

const memory = new RateLimiter();
await measure('in memory (RateLimiter, one process: the embedded default)', [{ take: (charges) => Promise.resolve(memory.take(charges)) }]);

const dir = mkdtempSync(path.join(tmpdir(), 'irlab-bench-budgets-'));
// Its own temp dir: as root, the server runs as the postgres user, who cannot enter `dir`.
const cluster = mkdtempSync(path.join(tmpdir(), 'irlab-bench-postgres-'));
let started = false;
try {
  const sqlite = sqliteStore(openSqliteDatabase(path.join(dir, 'irlab.db')));
  await migrateStore(sqlite, allMigrations);
  await measure('SQLite (node:sqlite, WAL, one process)', [sharedBuckets(sqlite)]);
  await sqlite.close();

  let url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    url = execFileSync('bash', [script, 'start', cluster], { encoding: 'utf8' }).trim();
    started = true;
  }
  const stores: SqlStore[] = Array.from({ length: STORES }, () => postgresStore({ url: url!, max: 10 }));
  await migrateStore(stores[0]!, allMigrations);
  const version = await stores[0]!.get<{ server_version: string }>('SHOW server_version');
  await measure(`PostgreSQL ${version?.server_version} (${started ? 'throwaway server on loopback TCP, fsync off' : 'BENCH_DATABASE_URL'}; pools of 10)`, stores.map((store) => sharedBuckets(store)));
  await Promise.all(stores.map((s) => s.close()));
} finally {
  if (started) execFileSync('bash', [script, 'stop', cluster]);
  rmSync(cluster, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
