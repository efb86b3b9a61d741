/**
 * The server process's store, opened on first use at `${IRLAB_DATA_DIR:-.irlab/data}/irlab.db`.
 * Tests open their own with `openStore(tempFile, allMigrations)` instead.
 */
import path from 'node:path';
import { dataDir, openStore, type Store } from './database.ts';
import { allMigrations } from './migrations.ts';

let store: Store | undefined;

export function getStore(): Store {
  store ??= openStore(path.join(dataDir(), 'irlab.db'), allMigrations);
  return store;
}

export { dataDir, openStore, type Store } from './database.ts';
export { allMigrations } from './migrations.ts';
