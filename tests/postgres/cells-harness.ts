// What the fronts-and-cells tests share: polling, a fetch that keeps the cookie and the time, and a
// browser-like terminal client (output by seq, acks, hello with replay) that works through a front
// or straight to a cell.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { engineChecked, freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { decodeOutputFrame } from '../../src/lib/terminal-protocol.ts';

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

export type Answer<T> = { status: number; body: T; cookie: string; ms: number };
export async function call<T>(base: string, target: string, init: { body?: unknown; cookie?: string; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const started = performance.now();
  const response = await fetch(`${base}${target}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: { origin: base, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(300_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  const json = (response.headers.get('content-type') ?? '').includes('json') && text;
  return { status: response.status, body: (json ? JSON.parse(text) : text) as T, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '', ms };
}

/** A browser-like terminal client: output by seq, acks, input numbered per page load, hello with replay. */
export class TerminalClient {
  lastSeq = 0;
  output = '';
  private inputSeq = 0;
  private readonly clientId = `test-${randomBytes(6).toString('hex')}`;
  ws: WebSocket | undefined;
  seqs: number[] = [];
  texts: string[] = [];
  private readonly waiters: Array<() => void> = [];

  async connect(url: string, headers: Record<string, string>): Promise<void> {
    const ws = new WebSocket(url, { headers });
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return void this.texts.push(data.toString());
      const frame = decodeOutputFrame(new Uint8Array(data));
      if (!frame || frame.seq <= this.lastSeq) return;
      this.seqs.push(frame.seq);
      this.lastSeq = frame.seq;
      this.output += new TextDecoder().decode(frame.data);
      for (const wake of this.waiters.splice(0)) wake();
      ws.send(JSON.stringify({ t: 'ack', seq: frame.seq }));
    });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject), ws.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)))));
    const greeted = this.texts.length;
    ws.send(JSON.stringify({ t: 'hello', v: 1, clientId: this.clientId, lastOutputSeq: this.lastSeq, cols: 200, rows: 50 }));
    // As the browser does: inputs the server never applied (sent into a dying connection) go again.
    const hello = await until('the hello', async () => this.texts.slice(greeted).map((t) => JSON.parse(t) as { t: string; lastInputSeq?: number }).find((m) => m.t === 'hello'));
    for (const [seq, data] of this.sent) if (seq > (hello.lastInputSeq ?? 0)) ws.send(JSON.stringify({ t: 'input', seq, data }));
  }

  private readonly sent = new Map<number, string>();
  type(data: string): void {
    this.sent.set(++this.inputSeq, data);
    this.ws!.send(JSON.stringify({ t: 'input', seq: this.inputSeq, data }));
  }

  /** Runs a command and resolves with what it printed (between markers its echo never shows whole). */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const tag = randomBytes(4).toString('hex');
    const from = this.output.length;
    this.type(`echo "<<""${tag}"; ${command}; echo "${tag}"">>"\r`);
    try {
      return await until(`the output of ${command}`, async () => new RegExp(`<<${tag}\\r?\\n([\\s\\S]*?)${tag}>>`).exec(this.output.slice(from))?.[1]?.replace(/\r/g, ''), timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen ends ${JSON.stringify(this.output.slice(-600))}; the last messages ${JSON.stringify(this.texts.slice(-4))}`, { cause: error });
    }
  }

  /** Milliseconds from a keystroke to its echo. */
  async echo(): Promise<number> {
    const mark = String.fromCharCode(97 + Math.floor(Math.random() * 26));
    const from = this.output.length;
    const started = performance.now();
    this.type(mark);
    // Woken by the frame itself (polling would round every figure up to the poll interval).
    const deadline = started + 10_000;
    while (!this.output.slice(from).includes(mark)) {
      if (performance.now() > deadline) throw new Error('no echo within 10 s');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
    const ms = performance.now() - started;
    this.type('\u007f'); // rub it out again
    return ms;
  }
}

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
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const name = `irlab_cells_${randomBytes(5).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const shared = { IRLAB_DATABASE_URL: databaseUrl, IRLAB_CELL_FORWARD_KEY: key, IRLAB_CELL_HEARTBEAT_SECONDS: '1', IRLAB_CELL_EXPIRE_SECONDS: '4', ...env };
  const cells = new Map<string, RealServer>();
  const fronts: RealServer[] = [];
  const stop = async () => {
    for (const server of [...fronts, ...cells.values()]) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
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
