/**
 * The real irlab server process (src/server/app/serve.ts over the built site) for tests that
 * attack it: its own port on 127.0.0.1, a temporary data directory, no clusters (an empty warm
 * pool, no incidents seeded ahead of time, terminals without a cluster). Everything it prints is
 * kept, so a failing test can show why the process died.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const root = path.resolve(import.meta.dirname, '../../..');

export interface RealServer {
  port: number;
  base: string;
  dataDir: string;
  instructorToken: string;
  child: ChildProcess;
  /** Every line the server printed, stdout and stderr. */
  output: string[];
  /** Null while the process runs. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** A port nobody listens on now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A few audit events, so that /api/query has a source ("file") to parse queries against. */
const AUDIT_LOG = [
  { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'a1', stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/default/pods', verb: 'list', user: { username: 'alice' }, sourceIPs: ['10.0.0.1'], objectRef: { resource: 'pods', namespace: 'default' }, responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-01-01T10:00:00.000000Z', stageTimestamp: '2026-01-01T10:00:00.010000Z' },
  { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'a2', stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/kube-system/secrets/token', verb: 'get', user: { username: 'system:serviceaccount:web:app' }, sourceIPs: ['10.0.0.9'], objectRef: { resource: 'secrets', namespace: 'kube-system', name: 'token' }, responseStatus: { code: 403 }, requestReceivedTimestamp: '2026-01-01T10:01:00.000000Z', stageTimestamp: '2026-01-01T10:01:00.010000Z' },
];

/**
 * `options.root`: start on this directory (data, kwok work dir) instead of a new one, as a
 * restarted server does; the caller owns it, so stop() leaves it. `options.within`: a command the
 * server runs under (`ip netns exec <ns>`), listening on `options.host` (default 127.0.0.1).
 */
export async function startRealServer(env: Record<string, string> = {}, options: { root?: string; within?: string[]; host?: string; startTimeoutMs?: number } = {}): Promise<RealServer> {
  if (!existsSync(path.join(root, 'dist/server/entry.mjs'))) throw new Error('the site is not built: run `npm run build` first');
  const dataDir = options.root ?? (await mkdtemp(path.join(tmpdir(), 'irlab-hostile-')));
  const auditLog = path.join(dataDir, 'audit.log');
  await writeFile(auditLog, AUDIT_LOG.map((event) => JSON.stringify(event)).join('\n') + '\n');
  // A caller that must know the port before the start (a cell registers its URL) passes PORT.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const instructorToken = 'hostile-suite-instructor-token-0123456789';
  const host = options.host ?? '127.0.0.1';
  const [command, ...args] = [...(options.within ?? []), process.execPath, path.join(root, 'src/server/app/serve.ts')];
  const child = spawn(command!, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: host,
      IRLAB_DATA_DIR: path.join(dataDir, 'data'),
      KWOK_WORKDIR: path.join(dataDir, 'kwok'),
      IRLAB_WARM_POOL_SIZE: '0',
      IRLAB_LAB_PREPARED: '0',
      IRLAB_TERMINAL_CLUSTER: 'none',
      IRLAB_AUDIT_LOG: auditLog,
      IRLAB_INSTRUCTOR_TOKEN: instructorToken,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => output.push(line));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const base = `http://${host}:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      // A draining cell waits for its learners (IRLAB_CELL_DRAIN_SECONDS): a second signal stops
      // it now, so it still stops its clusters before the SIGKILL that would leave them running.
      const again = setTimeout(() => child.kill('SIGTERM'), 3_000);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await gone;
      clearTimeout(again);
      clearTimeout(timer);
    }
    if (!options.root) await rm(dataDir, { recursive: true, force: true });
  };
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`the server exited while starting:\n${output.join('\n')}`);
    try {
      if ((await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > (options.startTimeoutMs ?? 60_000)) {
      await stop();
      throw new Error(`the server did not answer /api/health within ${(options.startTimeoutMs ?? 60_000) / 1000} s:\n${output.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, base, dataDir: path.join(dataDir, 'data'), instructorToken, child, output, exit: () => exited, exited: gone, stop };
}

/** A lab start waits for the server's engine check (a 503 meanwhile): resolves once it has looked. */
export async function engineChecked(server: Pick<RealServer, 'base'>, timeoutMs = 60_000): Promise<void> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const { state } = (await (await fetch(`${server.base}/api/engine`)).json()) as { state: string };
    if (state !== 'checking') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the server's engine check did not finish within ${timeoutMs / 1000} s`);
}
