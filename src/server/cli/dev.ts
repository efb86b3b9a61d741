/**
 * `irlab dev [--port N] [--host H]`: Astro's dev server on the pinned Node, for authors. Lessons
 * reload through Astro; saves under labs/, scenarios/ and quizzes/ are validated (every problem
 * printed) and reload the browser through the content integration (astro-integration.ts).
 * IRLAB_CONTENT_LIVE makes the lab and quiz services re-read content on each request.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

export { DEV_USAGE } from './usage.ts';

function astroBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('astro/package.json')), 'bin/astro.mjs');
}

/** Resolves once `url` serves a page, or rejects when `alive` says no. */
async function waitForHttp(url: string, alive: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('the dev server exited before it answered');
    // Vite answers 404 while Astro's routes are still being set up (and again when it restarts
    // to re-optimize dependencies), so only a page counts.
    const answered = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
      (response) => (void response.body?.cancel(), response.ok),
      () => false,
    );
    if (answered) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs / 1000} s`);
}

export async function devCommand(argv: string[], root = process.cwd()): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string', default: '4321' }, host: { type: 'string', default: 'localhost' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`irlab dev: --port ${values.port}: give a port number`);
    return 2;
  }
  const child = spawn(process.execPath, [astroBin(), 'dev', '--port', String(port), '--host', values.host], {
    cwd: root,
    stdio: 'inherit',
    // NODE_ENV=test (inherited from a test runner, say) makes Vite drop its reload messages.
    env: { ...process.env, NODE_ENV: 'development', IRLAB_CONTENT_LIVE: '1' },
  });
  let exited = false;
  const done = new Promise<number>((resolve) => child.on('exit', (code, signal) => ((exited = true), resolve(code ?? (signal ? 0 : 1)))));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
  const url = `http://${values.host}:${port}/`;
  try {
    await waitForHttp(url, () => !exited);
    console.log(`irlab dev: ${url} (saves under src/content, labs, scenarios and quizzes are validated and reload the page)`);
  } catch (error) {
    console.error(`irlab dev: ${(error as Error).message}`);
    if (!exited) child.kill('SIGTERM');
  }
  return done;
}
