/**
 * The built irlab server (`src/server/app/serve.ts`) as the benches run it: its own port and data
 * directory, up once `/api/health` answers; `stop()` sends SIGTERM (the server deletes its
 * clusters), waits for the exit and removes the data directory, also on an uncaught error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

export interface BuiltServer {
  child: ChildProcess;
  stop: () => Promise<void>;
}

export async function startBuiltServer(options: {
  root: string;
  port: number;
  dataDir: string;
  env?: Record<string, string>;
  /** Each line the server prints on stdout (else its output goes to ours). */
  onLine?: (line: string) => void;
}): Promise<BuiltServer> {
  const child = spawn(process.execPath, [path.join(options.root, 'src/server/app/serve.ts')], {
    cwd: options.root,
    env: { ...process.env, PORT: String(options.port), HOST: '127.0.0.1', IRLAB_DATA_DIR: options.dataDir, ...options.env },
    stdio: ['ignore', options.onLine ? 'pipe' : 'inherit', 'inherit'],
  });
  const { onLine } = options;
  if (onLine && child.stdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => text.split('\n').forEach(onLine));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(options.dataDir, { recursive: true, force: true });
  };
  process.on('uncaughtException', (error) => {
    console.error(error);
    void stop().finally(() => process.exit(1));
  });
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${options.port}/api/health`);
      return { child, stop };
    } catch {
      if (i > 300) throw new Error('the server did not start; run `npm run build` first');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
