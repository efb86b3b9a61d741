/**
 * `npm run bench:store`: the store's per-query latency on SQLite (a WAL file in a temp directory)
 * and on PostgreSQL (a throwaway server from Debian's binaries, scripts/postgres.sh, on loopback
 * TCP), through the same async interface the modules use: a point read, an upsert, a transaction of
 * three statements, and 50 concurrent point reads. Prints figures; asserts nothing. Set
 * BENCH_DATABASE_URL to measure an existing PostgreSQL instead (its database must be empty).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrateStore, type Migration } from '../src/server/store/database.ts';
import { postgresStore } from '../src/server/store/postgres-store.ts';
import type { SqlStore } from '../src/server/store/sql-store.ts';
import { openSqliteDatabase, sqliteStore } from '../src/server/store/sqlite-store.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const script = path.resolve(import.meta.dirname, '../scripts/postgres.sh');
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const us = (x: number) => `${(x * 1000).toFixed(0).padStart(6)} µs`;
const schema: Migration[] = [{ module: 'bench', version: 1, name: 'kv', sql: 'CREATE TABLE bench_kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0)' }];

async function timed(rounds: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  return times;
}

async function measure(name: string, store: SqlStore): Promise<void> {
  await migrateStore(store, schema);
  for (let i = 0; i < 1000; i++) await store.run('INSERT INTO bench_kv (k, v) VALUES (?, ?)', [`k${i}`, 'x'.repeat(100)]);
  const rows: Array<[string, number[]]> = [
    ['point read (get by key)', await timed(ROUNDS, (i) => store.get('SELECT k, v, n FROM bench_kv WHERE k = ?', [`k${i % 1000}`]))],
    ['upsert (run, ON CONFLICT DO UPDATE)', await timed(ROUNDS, (i) => store.run('INSERT INTO bench_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = bench_kv.n + 1', [`k${i % 1000}`, 'y']))],
    [
      'transaction (read, update, insert)',
      await timed(ROUNDS / 4, (i) =>
        store.transaction(async (tx) => {
          const row = await tx.get<{ n: number }>('SELECT n FROM bench_kv WHERE k = ?', [`k${i % 1000}`]);
          await tx.run('UPDATE bench_kv SET n = ? WHERE k = ?', [(row?.n ?? 0) + 1, `k${i % 1000}`]);
          await tx.run('INSERT INTO bench_kv (k, v) VALUES (?, ?)', [`t${i}`, 'z']);
        }),
      ),
    ],
  ];
  const burstOnce = async () => {
    const t = performance.now();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.get('SELECT v FROM bench_kv WHERE k = ?', [`k${i}`])));
    return performance.now() - t;
  };
  // The first burst opens the pool's connections (SCRAM authentication each): reported apart.
  const cold = await burstOnce();
  const burst = await burstOnce();
  console.log(`\n${name}`);
  for (const [label, times] of rows) console.log(`  ${label.padEnd(38)} p50 ${us(quantile(times, 0.5))}  p95 ${us(quantile(times, 0.95))}  (${times.length} runs)`);
  console.log(`  ${'50 concurrent point reads, all done'.padEnd(38)} ${us(burst)}  (first burst: ${us(cold).trim()})`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'irlab-bench-store-'));
// Its own temp dir: as root, the server runs as the postgres user, who cannot enter `dir`.
const cluster = mkdtempSync(path.join(tmpdir(), 'irlab-bench-postgres-'));
let started = false;
try {
  const sqlite = sqliteStore(openSqliteDatabase(path.join(dir, 'irlab.db')));
  await measure(`SQLite (node:sqlite, WAL, ${path.join(dir, 'irlab.db')})`, sqlite);
  await sqlite.close();

  let url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    url = execFileSync('bash', [script, 'start', cluster], { encoding: 'utf8' }).trim();
    started = true;
  }
  const postgres = postgresStore({ url });
  const version = await postgres.get<{ server_version: string }>('SHOW server_version');
  await measure(`PostgreSQL ${version?.server_version} (pg, pool of 10, ${started ? 'throwaway server on loopback TCP, fsync off' : 'BENCH_DATABASE_URL'})`, postgres);
  await postgres.close();
} finally {
  if (started) execFileSync('bash', [script, 'stop', cluster]);
  rmSync(cluster, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
