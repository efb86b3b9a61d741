// What the fronts-and-cells tests share: 2+ fronts and cells as real serve.ts processes on a
// throwaway database, and (from lab-client.ts) polling, a fetch that keeps the cookie and the time,
// and a browser-like terminal client that works through a front or straight to a cell.
import path from 'node:path';
import { engineChecked, freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

import { freshDatabase } from './fresh-database.ts';
import { query as queryDatabase, until } from './lab-client.ts';

export { call, TerminalClient, until, type Answer } from './lab-client.ts';

export const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return `p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms (n=${samples.length}: ${samples.map((s) => s.toFixed(0)).join(', ')})`;
};

export interface FrontsAndCells {
  databaseUrl: string;
  /** The env every process shares (database, key, fast heartbeats). */
  shared: Record<string, string>;
  cells: Map<string, RealServer>;
  fronts: RealServer[];
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A cell killed by the test started again on its data directory until it reaped what it left, then stopped. */
  returnCell(id: string, server: RealServer): Promise<void>;
  /** Stops every process and drops the database, even after a failure. */
  stop(): Promise<void>;
}

/** A throwaway database on the postgres project's server, `cellIds` cells and `frontCount` fronts as real serve.ts processes. */
export async function startFrontsAndCells(postgresUrl: string, { cellIds, frontCount, key, env = {} }: { cellIds: string[]; frontCount: number; key: string; env?: Record<string, string> }): Promise<FrontsAndCells> {
  const database = await freshDatabase('irlab_cells', postgresUrl);
  const databaseUrl = database.url;
  const query = <T>(sql: string, params: unknown[] = []) => queryDatabase<T>(databaseUrl, sql, params);
  const shared = { IRLAB_DATABASE_URL: databaseUrl, IRLAB_CELL_FORWARD_KEY: key, IRLAB_CELL_HEARTBEAT_SECONDS: '1', IRLAB_CELL_EXPIRE_SECONDS: '4', ...env };
  const cells = new Map<string, RealServer>();
  const fronts: RealServer[] = [];
  const stop = async () => {
    for (const server of [...fronts, ...cells.values()]) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
    await database.drop();
  };
  try {
    // The first migrates; the others find the tables.
    for (const id of cellIds) {
      const port = await freePort();
      cells.set(id, await startRealServer({ ...shared, PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: `http://127.0.0.1:${port}`, IRLAB_CELL_CAPACITY: '4' }));
    }
    for (let i = 0; i < frontCount; i++) fronts.push(await startRealServer({ ...shared, IRLAB_ROLE: 'front' }));
    await until('every cell live in the registry', async () => ((await query<{ id: string }>("SELECT id FROM cells WHERE state = 'live'")).length === cellIds.length ? true : undefined));
    for (const cell of cells.values()) await engineChecked(cell);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    databaseUrl,
    shared,
    cells,
    fronts,
    query,
    async returnCell(id, server) {
      const back = await startRealServer({ ...shared, PORT: String(server.port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: server.base }, { root: path.dirname(server.dataDir) });
      try {
        await until('the returning cell to reap', async () => (back.output.some((line) => /reaped \d+ cluster/.test(line)) ? true : undefined), 120_000);
      } finally {
        await back.stop();
      }
    },
    stop,
  };
}
