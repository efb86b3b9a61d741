/**
 * The store's entry: `openStore(file, allMigrations)`. The server opens its one store in
 * src/server/app/services.ts; tests open their own on a temp file or `:memory:`.
 */
export { dataDir, openStore, type Store } from './database.ts';
export { allMigrations } from './migrations.ts';
