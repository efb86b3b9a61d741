/**
 * `npm run bench:placement`: how long placing a learner's run on a cell takes (src/server/cells/
 * registry.ts), on SQLite (a WAL file in a temp directory, one process) and on PostgreSQL (a
 * throwaway server from Debian's binaries, scripts/postgres.sh, on loopback TCP; or
 * BENCH_DATABASE_URL, an empty database). Three cells of 1,000 slots; per call, p50 and p95 of:
 * placing new runs one at a time; placing a run already placed (the idempotent answer a front gets
 * on every reconnect); placing from 4 fronts at once, 25 callers each (on PostgreSQL 4 stores, as 4
 * processes would; on SQLite one store, its transactions queued); placing the runs a dead cell lost.
 * Prints figures; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { cellRegistry, type CellRegistry } from '../src/server/cells/registry.ts';
import { migrateStore } from '../src/server/store/database.ts';
import { allMigrations } from '../src/server/store/migrations.ts';
import { postgresStore } from '../src/server/store/postgres-store.ts';
import type { SqlStore } from '../src/server/store/sql-store.ts';
import { openSqliteDatabase, sqliteStore } from '../src/server/store/sqlite-store.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const CELLS = 3;
const SLOTS = 1000;
const FRONTS = 4;
const CALLERS = 25;
const script = path.resolve(import.meta.dirname, '../scripts/postgres.sh');
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const ms = (x: number) => `${x.toFixed(2).padStart(7)} ms`;

async function timed<T>(op: () => Promise<T>, into: number[]): Promise<T> {
  const t = performance.now();
  const value = await op();
  into.push(performance.now() - t);
  return value;
}

/** `total` calls spread over `callers` loops, each waiting for its previous call. */
async function concurrently(total: number, callers: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    for (let i = next++; i < total; i = next++) await op(i);
  }));
  return performance.now() - t;
}

async function measure(name: string, stores: SqlStore[]): Promise<void> {
  const time = { now: Date.parse('2026-12-07T10:00:00Z') };
  const clock = () => new Date(time.now);
  const fronts: CellRegistry[] = stores.map((store) => cellRegistry({ store, clock }));
  const main = fronts[0]!;
  for (let c = 0; c < CELLS; c++) await main.register({ id: `cell-${c}`, url: `http://cell-${c}:4321`, capacity: SLOTS });

  const fresh: number[] = [];
  for (let i = 0; i < RUNS; i++) await timed(() => main.place(`learner-${i}`, `run-${i}`), fresh);
  const again: number[] = [];
  for (let i = 0; i < RUNS; i++) await timed(() => main.place(`learner-${i}`, `run-${i}`), again);
  for (let i = 0; i < RUNS; i++) await main.release(`run-${i}`);

  const racing: number[] = [];
  const wall = await concurrently(RUNS, FRONTS * CALLERS, (i) => timed(() => fronts[i % fronts.length]!.place(`learner-${i}`, `burst-${i}`), racing));
  const used = (await main.cells()).reduce((n, c) => n + c.used, 0);

  // cell-0 stops heartbeating: expired, its runs lost, each placed again on the two others.
  time.now += 60_000;
  for (let c = 1; c < CELLS; c++) await main.heartbeat(`cell-${c}`);
  const expiring: number[] = [];
  const { lost } = await timed(() => main.expire(), expiring);
  const lostRuns = (await stores[0]!.all<{ run_id: string; learner_id: string }>('SELECT run_id, learner_id FROM placements WHERE lost = 1'));
  const replaced: number[] = [];
  for (const r of lostRuns) await timed(() => main.place(r.learner_id, r.run_id), replaced);

  console.log(`\n${name}`);
  const row = (label: string, xs: number[], extra = '') => console.log(`  ${label.padEnd(44)} p50 ${ms(quantile(xs, 0.5))}  p95 ${ms(quantile(xs, 0.95))}  (${xs.length} calls${extra})`);
  row('place a new run, one at a time', fresh);
  row('place a run already placed (idempotent)', again);
  row(`place from ${stores.length} store(s), ${FRONTS * CALLERS} callers at once`, racing, `, ${(RUNS / (wall / 1000)).toFixed(0)}/s, ${used} placed`);
  row(`expire a dead cell (${lost} placements lost)`, expiring);
  row('place a lost run again', replaced);
}

const dir = mkdtempSync(path.join(tmpdir(), 'irlab-bench-placement-'));
// Its own temp dir: as root, the server runs as the postgres user, who cannot enter `dir`.
const cluster = mkdtempSync(path.join(tmpdir(), 'irlab-bench-postgres-'));
let started = false;
try {
  const sqlite = sqliteStore(openSqliteDatabase(path.join(dir, 'irlab.db')));
  await migrateStore(sqlite, allMigrations);
  await measure('SQLite (node:sqlite, WAL, one process: placements queue on its write lock)', [sqlite]);
  await sqlite.close();

  let url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    url = execFileSync('bash', [script, 'start', cluster], { encoding: 'utf8' }).trim();
    started = true;
  }
  const stores = Array.from({ length: FRONTS }, () => postgresStore({ url: url!, max: 10 }));
  await migrateStore(stores[0]!, allMigrations);
  const version = await stores[0]!.get<{ server_version: string }>('SHOW server_version');
  await measure(`PostgreSQL ${version?.server_version} (${FRONTS} stores as ${FRONTS} fronts, pools of 10; ${started ? 'throwaway server on loopback TCP, fsync off' : 'BENCH_DATABASE_URL'})`, stores);
  await Promise.all(stores.map((s) => s.close()));
} finally {
  if (started) execFileSync('bash', [script, 'stop', cluster]);
  rmSync(cluster, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
