import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataDir, migrate, openStore, type Migration } from './database.ts';
import { allMigrations } from './migrations.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});
const tempDb = async () => path.join((dir = await mkdtemp(path.join(tmpdir(), 'irlab-store-'))), 'data', 'irlab.db');

describe('store', () => {
  it('creates the database file in WAL mode with foreign keys on, and every module\'s tables', async () => {
    const file = await tempDb();
    const db = openStore(file, allMigrations);
    expect((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    expect((db.prepare('PRAGMA foreign_keys').get() as { foreign_keys: number }).foreign_keys).toBe(1);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['migrations', 'learners', 'learner_sessions', 'learner_identities', 'quiz_attempts', 'quiz_answers', 'lab_runs', 'lab_results', 'lab_hints', 'lab_answers', 'lab_notes', 'drills', 'drill_log', 'drill_injects', 'xapi_outbox', 'xapi_totals']));
    expect(tables).toEqual(expect.arrayContaining(['migrations', 'learners', 'learner_sessions', 'learner_identities', 'quiz_attempts', 'quiz_answers', 'lab_runs', 'lab_results', 'lab_hints', 'lab_answers', 'lab_notes', 'drills', 'drill_log', 'drill_injects', 'classes', 'class_members', 'class_assignments', 'class_messages', 'class_message_dismissals']));
    const applied = db.prepare('SELECT module, version FROM migrations ORDER BY rowid').all();
    expect(applied).toEqual([
      { module: 'learners', version: 1 },
      { module: 'learners', version: 2 },
      { module: 'quiz', version: 1 },
      { module: 'labs', version: 1 },
      { module: 'labs', version: 2 },
      { module: 'labs', version: 3 },
      { module: 'labs', version: 4 },
      { module: 'labs', version: 5 },
      { module: 'labs', version: 6 },
      { module: 'drills', version: 1 },
      { module: 'drills', version: 2 },
      { module: 'xapi', version: 1 },
      { module: 'instructors', version: 1 },
      { module: 'accounts', version: 1 },
      { module: 'classes', version: 1 },
      { module: 'lti', version: 1 },
    ]);
    db.close();
  });

  it('applies each migration once, and new ones on the next open', async () => {
    const file = await tempDb();
    const first: Migration[] = [{ module: 'labs', version: 1, name: 'progress', sql: 'CREATE TABLE lab_progress (id TEXT PRIMARY KEY)' }];
    openStore(file, first).close();
    const second: Migration[] = [...first, { module: 'labs', version: 2, name: 'score', sql: 'ALTER TABLE lab_progress ADD COLUMN score REAL' }];
    const db = openStore(file, second);
    expect(migrate(db, second)).toEqual([]);
    db.prepare('INSERT INTO lab_progress (id, score) VALUES (?, ?)').run('x', 1);
    expect(db.prepare('SELECT COUNT(*) AS n FROM migrations').get()).toEqual({ n: 2 });
    db.close();
  });

  it('rolls back a failing migration and names it', async () => {
    const db = openStore(await tempDb(), []);
    const bad: Migration[] = [{ module: 'drills', version: 1, name: 'broken', sql: 'CREATE TABLE ok (id TEXT); CREATE TABLE;' }];
    expect(() => migrate(db, bad)).toThrow(/migration drills\/1 \(broken\) failed/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok'").get()).toBeUndefined();
    db.close();
  });

  it('refuses gaps and repeats in a module\'s numbering', async () => {
    const db = openStore(await tempDb(), []);
    expect(() => migrate(db, [{ module: 'm', version: 2, name: 'x', sql: '' }])).toThrow(/out of order/);
    expect(() => migrate(db, [{ module: 'm', version: 1, name: 'x', sql: '' }, { module: 'm', version: 1, name: 'y', sql: '' }])).toThrow(/listed twice/);
    db.close();
  });

  it('lives under IRLAB_DATA_DIR, default .irlab/data', () => {
    expect(dataDir({}, '/srv/irlab')).toBe('/srv/irlab/.irlab/data');
    expect(dataDir({ IRLAB_DATA_DIR: '/var/lib/irlab' }, '/srv/irlab')).toBe('/var/lib/irlab');
    expect(dataDir({ IRLAB_DATA_DIR: 'state' }, '/srv/irlab')).toBe('/srv/irlab/state');
  });
});
