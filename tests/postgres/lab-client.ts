/**
 * What the fronts-and-cells tests drive a server with, as a browser would (copied from
 * fronts-and-cells.test.ts, which another change edits now): JSON calls, polling, and a terminal
 * client with output by seq, acks, numbered input and the hello's replay.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { decodeOutputFrame } from '../../src/lib/terminal-protocol.ts';

export { WebSocket };

export async function query<T>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

export type Answer<T> = { status: number; body: T; cookie: string; ms: number };
export async function call<T>(base: string, target: string, init: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const started = performance.now();
  const response = await fetch(`${base}${target}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { origin: base, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
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
