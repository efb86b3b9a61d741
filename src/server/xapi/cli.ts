/**
 * `irlab xapi status [--json]` and `irlab xapi retry`: what an operator sees of the xAPI outbox in
 * the server's database, SQLite or IRLAB_DATABASE_URL's PostgreSQL (the server may be running:
 * SQLite in WAL mode has room for a reader).
 * status exits 1 while statements the LRS refused are kept, so a monitoring check can run it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../app/config.ts';
import { allMigrations, connectStore } from '../store/index.ts';
import { XAPI_USAGE } from '../cli/usage.ts';
import { XapiOutbox, type OutboxStatus } from './outbox.ts';

export interface XapiCommandIo {
  env?: Record<string, string | undefined>;
  cwd?: string;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

export function formatStatus(status: OutboxStatus, endpoint: string | undefined): string {
  const lines = [endpoint ? `xAPI: statements go to ${endpoint}` : 'xAPI: IRLAB_XAPI_ENDPOINT is unset: no statements are made (docs/classes.md#xapi)'];
  lines.push(`  delivered  ${status.delivered}${status.lastDeliveredAt ? ` (last at ${status.lastDeliveredAt})` : ''}`);
  lines.push(`  waiting    ${status.pending}${status.pending ? ` (oldest from ${status.oldestPendingAt}${status.lastError ? `; last try: ${status.lastError}` : ''})` : ''}`);
  lines.push(`  refused    ${status.failed}${status.failed ? ' (kept; `irlab xapi retry` sends them again once the cause is fixed)' : ''}`);
  for (const failure of status.failures) lines.push(`    ${failure.id}  ${failure.createdAt}  ${failure.summary}\n      ${failure.reason}`);
  if (status.failed > status.failures.length) lines.push(`    … and ${status.failed - status.failures.length} more`);
  return lines.join('\n');
}

export async function xapiCommand(args: string[], io: XapiCommandIo = {}): Promise<number> {
  const out = io.out ?? ((text) => console.log(text));
  const err = io.err ?? ((text) => console.error(text));
  const [action, ...rest] = args;
  const json = rest.includes('--json');
  if ((action !== 'status' && action !== 'retry') || rest.some((a) => a !== '--json') || (action === 'retry' && json)) {
    err(`irlab xapi: unknown use "${args.join(' ')}"\n${XAPI_USAGE}`);
    return 2;
  }
  const config = loadConfig(io.env ?? process.env, io.cwd ?? process.cwd());
  const file = path.join(config.dataDir, 'irlab.db');
  if (!config.databaseUrl && !existsSync(file)) {
    err(`irlab xapi: no database at ${file}; run this where the server runs, with its IRLAB_DATA_DIR`);
    return 1;
  }
  const store = await connectStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, allMigrations);
  try {
    const outbox = new XapiOutbox(store);
    if (action === 'retry') {
      const n = await outbox.retryFailed();
      out(n === 0 ? 'irlab xapi: no refused statements to send again' : `irlab xapi: ${n} refused statement(s) are back in the outbox; the server sends them ${config.xapi ? 'now' : 'once IRLAB_XAPI_ENDPOINT is set'}`);
      return 0;
    }
    const status = await outbox.status();
    out(json ? JSON.stringify({ endpoint: config.xapi?.endpoint ?? null, ...status }, null, 2) : formatStatus(status, config.xapi?.endpoint));
    return status.failed > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
