/**
 * irlab's one SQLite database (`node:sqlite`): learners, quiz attempts and, as their issues land,
 * lab progress and drills. One file under the data directory, WAL mode so readers never wait for
 * the writer, foreign keys on. Each module owns a numbered list of migrations; `migrate` applies
 * the ones not yet recorded in the `migrations` table, each in its own transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface Migration {
  /** The module that owns the tables, e.g. `learners`, `quiz`, `labs`. */
  module: string;
  /** 1, 2, 3... within the module; never renumber or edit one that has shipped, add a new one. */
  version: number;
  /** What it does, for the migrations table and error messages. */
  name: string;
  /** SQL statements to run. */
  sql: string;
}

export type Store = DatabaseSync;

/** `${IRLAB_DATA_DIR:-.irlab/data}`, resolved against the working directory. */
export function dataDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, env.IRLAB_DATA_DIR || '.irlab/data');
}

export function openStore(file: string, migrations: readonly Migration[]): Store {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
  migrate(db, migrations);
  return db;
}

/** Applies pending migrations in list order; returns the ones applied. */
export function migrate(db: Store, migrations: readonly Migration[]): Migration[] {
  db.exec(`CREATE TABLE IF NOT EXISTS migrations (
    module TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (module, version)
  )`);
  const seen = new Set<string>();
  const lastByModule = new Map<string, number>();
  for (const m of migrations) {
    const key = `${m.module}/${m.version}`;
    if (seen.has(key)) throw new Error(`migration ${key} is listed twice`);
    seen.add(key);
    if (m.version !== (lastByModule.get(m.module) ?? 0) + 1) throw new Error(`migration ${key} is out of order: ${m.module} migrations are numbered 1, 2, 3...`);
    lastByModule.set(m.module, m.version);
  }
  const applied = new Set(
    (db.prepare('SELECT module, version FROM migrations').all() as Array<{ module: string; version: number }>).map((r) => `${r.module}/${r.version}`),
  );
  const done: Migration[] = [];
  for (const m of migrations) {
    if (applied.has(`${m.module}/${m.version}`)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      db.prepare('INSERT INTO migrations (module, version, name, applied_at) VALUES (?, ?, ?, ?)').run(m.module, m.version, m.name, new Date().toISOString());
      db.exec('COMMIT');
      done.push(m);
    } catch (error) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${m.module}/${m.version} (${m.name}) failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return done;
}
