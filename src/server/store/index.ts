/**
 * The store's entry: `connectStore({ databaseUrl, dataDir }, allMigrations)` gives the async
 * `SqlStore` on SQLite or PostgreSQL. The server opens its one store in
 * src/server/app/services.ts; tests open their own (test-stores.ts gives one per backend).
 * `openStore` and `Store` are SQLite's synchronous API, left for tests that read rows directly.
 */
export { connectStore, dataDir, migrateStore, openSqliteStore, openStore, type Store } from './database.ts';
export type { Dialect, RunResult, SqlQueries, SqlStore, SqlValue } from './sql-store.ts';
export { allMigrations } from './migrations.ts';
