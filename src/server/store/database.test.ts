import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataDir, migrate, migrateStore, openStore, postgresDdl, type Migration } from './database.ts';
import { allMigrations } from './migrations.ts';
import { numberedPlaceholders, StoreInputError, type SqlStore } from './sql-store.ts';
import { httpStatusOf } from '../../lib/error-status.ts';
import { testStores } from './store-test-kit.ts';

const everyMigration = [
  { module: 'learners', version: 1 },
  { module: 'learners', version: 2 },
  { module: 'quiz', version: 1 },
  { module: 'labs', version: 1 },
  { module: 'labs', version: 2 },
  { module: 'labs', version: 3 },
  { module: 'labs', version: 4 },
  { module: 'labs', version: 5 },
  { module: 'labs', version: 6 },
  { module: 'labs', version: 7 },
  { module: 'drills', version: 1 },
  { module: 'drills', version: 2 },
  { module: 'drills', version: 3 },
  { module: 'drills', version: 4 },
  { module: 'xapi', version: 1 },
  { module: 'xapi', version: 2 },
  { module: 'instructors', version: 1 },
  { module: 'accounts', version: 1 },
  { module: 'classes', version: 1 },
  { module: 'classes', version: 2 },
  { module: 'classes', version: 3 },
  { module: 'lti', version: 1 },
  { module: 'lti', version: 2 },
  { module: 'cells', version: 1 },
  { module: 'cells', version: 2 },
  { module: 'cells', version: 3 },
  { module: 'limits', version: 1 },
];
const byKey = (a: { module: string; version: number }, b: { module: string; version: number }) => a.module.localeCompare(b.module) || a.version - b.version;

describe.each(testStores())('the store on $name', (backend) => {
  const open: SqlStore[] = [];
  const opened = async (migrations?: readonly Migration[]) => {
    const store = await backend.open(migrations);
    open.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it("creates every module's tables and records each migration once", async () => {
    const store = await opened();
    for (const table of ['learners', 'learner_sessions', 'learner_identities', 'quiz_attempts', 'quiz_answers', 'lab_runs', 'lab_results', 'lab_hints', 'lab_answers', 'lab_notes', 'drills', 'drill_log', 'drill_injects', 'xapi_outbox', 'xapi_totals', 'classes', 'class_members', 'class_assignments', 'class_messages', 'class_message_dismissals']) {
      expect(await store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`), table).toEqual({ n: expect.any(Number) });
    }
    expect((await store.all<{ module: string; version: number }>('SELECT module, version FROM migrations')).sort(byKey)).toEqual([...everyMigration].sort(byKey));
    expect(await migrateStore(store, allMigrations)).toEqual([]);
  });

  it('refuses text holding U+0000 with a 400 before the statement runs; blobs with zero bytes pass', async () => {
    const store = await opened([{ module: 'nul', version: 1, name: 't', sql: 'CREATE TABLE nul_t (id TEXT PRIMARY KEY, body TEXT, data BLOB)' }]);
    const refused = store.run('INSERT INTO nul_t (id, body) VALUES (?, ?)', ['a', 'before\u0000after']);
    await expect(refused).rejects.toBeInstanceOf(StoreInputError);
    await expect(refused).rejects.toSatisfy((error) => httpStatusOf(error) === 400);
    await expect(store.get('SELECT id FROM nul_t WHERE body = ?', ['\u0000'])).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.transaction((tx) => tx.run('INSERT INTO nul_t (id, body) VALUES (?, ?)', ['b', '\u0000']))).rejects.toBeInstanceOf(StoreInputError);
    await store.run('INSERT INTO nul_t (id, body, data) VALUES (?, ?, ?)', ['c', 'plain \\u0000 text', new Uint8Array([0, 1, 0])]);
    expect(await store.all<{ id: string }>('SELECT id FROM nul_t')).toEqual([{ id: 'c' }]);
  });

  it('applies new migrations on the next start, not the old ones again', async () => {
    const first: Migration[] = [{ module: 'labs', version: 1, name: 'progress', sql: 'CREATE TABLE lab_progress (id TEXT PRIMARY KEY)' }];
    const store = await opened(first);
    const second: Migration[] = [...first, { module: 'labs', version: 2, name: 'score', sql: 'ALTER TABLE lab_progress ADD COLUMN score REAL' }];
    expect((await migrateStore(store, second)).map((m) => m.version)).toEqual([2]);
    expect(await migrateStore(store, second)).toEqual([]);
    await store.run('INSERT INTO lab_progress (id, score) VALUES (?, ?)', ['x', 0.1 + 0.2]);
    expect(await store.get('SELECT score FROM lab_progress')).toEqual({ score: 0.1 + 0.2 });
    expect(await store.get('SELECT COUNT(*) AS n FROM migrations')).toEqual({ n: 2 });
  });

  it('rolls back a failing migration and names it', async () => {
    const store = await opened([]);
    const bad: Migration[] = [{ module: 'drills', version: 1, name: 'broken', sql: 'CREATE TABLE ok (id TEXT); CREATE TABLE;' }];
    await expect(migrateStore(store, bad)).rejects.toThrow(/migration drills\/1 \(broken\) failed/);
    await expect(store.all('SELECT * FROM ok')).rejects.toThrow(/ok/);
    expect(await store.get('SELECT COUNT(*) AS n FROM migrations')).toEqual({ n: 0 });
  });

  it("refuses gaps and repeats in a module's numbering", async () => {
    const store = await opened([]);
    await expect(migrateStore(store, [{ module: 'm', version: 2, name: 'x', sql: '' }])).rejects.toThrow(/out of order/);
    await expect(migrateStore(store, [{ module: 'm', version: 1, name: 'x', sql: '' }, { module: 'm', version: 1, name: 'y', sql: '' }])).rejects.toThrow(/listed twice/);
  });

  it('binds ? parameters, counts changes, and runs the common subset the same way', async () => {
    const store = await opened([
      { module: 't', version: 1, name: 'kv', sql: 'CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, n INTEGER NOT NULL DEFAULT 0, at INTEGER)' },
    ]);
    const epochMs = Date.UTC(2026, 11, 7, 19, 0, 0, 123);
    expect(await store.run('INSERT INTO kv (k, v, n, at) VALUES (?, ?, ?, ?)', ['a', 'what?', 1, epochMs])).toEqual({ changes: 1 });
    // A literal ? inside quotes is text, not a placeholder.
    expect(await store.get("SELECT k, v, n, at, 'really?' AS q FROM kv WHERE k = ?", ['a'])).toEqual({ k: 'a', v: 'what?', n: 1, at: epochMs, q: 'really?' });
    expect(await store.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING', ['a', 'ignored'])).toEqual({ changes: 0 });
    await store.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + 1', ['a', 'b']);
    expect(await store.get('SELECT v, n FROM kv WHERE k = ?', ['a'])).toEqual({ v: 'b', n: 2 });
    expect(await store.get('INSERT INTO kv (k, v) VALUES (?, ?) RETURNING k, n', ['c', null])).toEqual({ k: 'c', n: 0 });
    expect(await store.get('SELECT v FROM kv WHERE k = ?', ['c'])).toEqual({ v: null });
    expect(await store.get('SELECT v FROM kv WHERE k = ?', ['missing'])).toBeUndefined();
    expect(await store.run('UPDATE kv SET n = n + 1', [])).toEqual({ changes: 2 });
    expect(await store.all('SELECT k FROM kv ORDER BY k')).toEqual([{ k: 'a' }, { k: 'c' }]);
    expect(await store.get('SELECT SUM(n) AS total, COUNT(*) AS rows_ FROM kv')).toEqual({ total: 4, rows_: 2 });
    expect(await store.get(`SELECT ${store.dialect.greatest('n', '2')} AS g FROM kv WHERE k = ?`, ['c'])).toEqual({ g: 2 });
    expect(await store.get(`SELECT ${store.dialect.groupConcat('k')} AS ks FROM (SELECT k FROM kv ORDER BY k) sorted`)).toEqual({ ks: 'a,c' });
    expect(await store.get(`SELECT ${store.dialect.groupConcat('v', { distinct: true })} AS vs FROM (SELECT 'x' AS v UNION ALL SELECT 'x') twice`)).toEqual({ vs: 'x' });
  });

  it('numbers rows of an identity column, read back with RETURNING', async () => {
    const store = await opened([{ module: 't', version: 1, name: 'queue', sql: 'CREATE TABLE queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)' }]);
    expect(await store.get('INSERT INTO queue (body) VALUES (?) RETURNING seq', ['first'])).toEqual({ seq: 1 });
    expect(await store.get('INSERT INTO queue (body) VALUES (?) RETURNING seq', ['second'])).toEqual({ seq: 2 });
    expect(await store.all('SELECT seq, body FROM queue WHERE seq > ? ORDER BY seq', [1])).toEqual([{ seq: 2, body: 'second' }]);
  });

  it('commits a transaction that resolves, rolls back one that throws, and keeps other queries out of it', async () => {
    const store = await opened([{ module: 't', version: 1, name: 'log', sql: 'CREATE TABLE log (id TEXT PRIMARY KEY)' }]);
    expect(await store.transaction(async (tx) => (await tx.run('INSERT INTO log (id) VALUES (?)', ['kept'])).changes)).toBe(1);
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const failing = store.transaction(async (tx) => {
      await tx.run('INSERT INTO log (id) VALUES (?)', ['rolled-back']);
      inside();
      await held;
      throw new Error('the work failed');
    });
    await entered;
    // Issued while the transaction is open: it must neither join it nor be lost with it.
    const outside = store.run('INSERT INTO log (id) VALUES (?)', ['outside']);
    release();
    await expect(failing).rejects.toThrow('the work failed');
    await outside;
    expect(await store.all('SELECT id FROM log ORDER BY id')).toEqual([{ id: 'kept' }, { id: 'outside' }]);
  });

  it.runIf(backend.openTogether)('migrates once when several processes start together', async () => {
    const stores = await backend.openTogether!(3, allMigrations);
    open.push(...stores.slice().reverse());
    expect(await stores[1]!.get('SELECT COUNT(*) AS n FROM migrations')).toEqual({ n: everyMigration.length });
  });
});

describe('the synchronous SQLite API (modules not yet converted)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const tempDb = async () => path.join((dir = await mkdtemp(path.join(tmpdir(), 'irlab-store-'))), 'data', 'irlab.db');

  it('creates the database file in WAL mode with foreign keys on, migrations in list order', async () => {
    const db = openStore(await tempDb(), allMigrations);
    expect((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    expect((db.prepare('PRAGMA foreign_keys').get() as { foreign_keys: number }).foreign_keys).toBe(1);
    expect(db.prepare('SELECT module, version FROM migrations ORDER BY rowid').all()).toEqual(everyMigration);
    expect(migrate(db, allMigrations)).toEqual([]);
    db.close();
  });

  it('finds the lookups fronts make on every request by an index, not a scan', async () => {
    const db = openStore(await tempDb(), allMigrations);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((row) => row.detail).join('; ');
    // A terminal socket through a front: is its session a drill participant's? (front/drill-front.ts)
    expect(plan("SELECT drill_id FROM drill_terminals WHERE session_id = 'x'")).toMatch(/USING INDEX drill_terminals_session/);
    // A learner's placement (front-proxy.ts), by its primary key.
    expect(plan("SELECT cell_id FROM placements WHERE run_kind = 'lab' AND run_id = 'x'")).toMatch(/USING INDEX sqlite_autoindex_placements_1/);
    db.close();
  });

  it('rolls back a failing migration and names it', async () => {
    const db = openStore(await tempDb(), []);
    expect(() => migrate(db, [{ module: 'drills', version: 1, name: 'broken', sql: 'CREATE TABLE ok (id TEXT); CREATE TABLE;' }])).toThrow(/migration drills\/1 \(broken\) failed/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok'").get()).toBeUndefined();
    db.close();
  });
});

describe('dialect helpers', () => {
  it('numbers ? placeholders outside quotes and comments', () => {
    expect(numberedPlaceholders("SELECT ?, '?', \"a?\" -- why?\n, ? FROM t WHERE x = ?")).toBe("SELECT $1, '?', \"a?\" -- why?\n, $2 FROM t WHERE x = $3");
  });

  it("turns SQLite's DDL types into PostgreSQL's, unless the migration gives its own", () => {
    expect(postgresDdl({ module: 'm', version: 1, name: 'n', sql: 'CREATE TABLE t (a INTEGER NOT NULL, b REAL, c BLOB, d TEXT)' })).toBe('CREATE TABLE t (a BIGINT NOT NULL, b DOUBLE PRECISION, c BYTEA, d TEXT)');
    expect(postgresDdl({ module: 'm', version: 1, name: 'n', sql: 'CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER)' })).toBe('CREATE TABLE q (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT)');
    expect(postgresDdl({ module: 'm', version: 1, name: 'n', sql: 'x', postgres: 'y' })).toBe('y');
  });

  it('lives under IRLAB_DATA_DIR, default .irlab/data', () => {
    expect(dataDir({}, '/srv/irlab')).toBe('/srv/irlab/.irlab/data');
    expect(dataDir({ IRLAB_DATA_DIR: '/var/lib/irlab' }, '/srv/irlab')).toBe('/var/lib/irlab');
    expect(dataDir({ IRLAB_DATA_DIR: 'state' }, '/srv/irlab')).toBe('/srv/irlab/state');
  });
});
