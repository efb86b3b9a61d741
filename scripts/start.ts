/**
 * `npm start`: makes sure the terminal's sandbox is installed (bubblewrap, the sandbox user),
 * builds the site when the build is missing or older than its sources, then serves it with
 * irlab's server (src/server/app/serve.ts: the services, then Astro and irlab's routes) on
 * http://localhost:4321 (PORT and HOST override). Runs on the pinned Node 24.
 *
 * The cluster engine is not needed to serve: the server builds it in the background when it is
 * missing or stale (IRLAB_ENGINE_BUILD=auto unless set; src/server/cluster/engine-build.ts), with
 * progress on the console and on every lab and terminal page.
 *
 * Stopping: SIGINT, SIGTERM or SIGHUP, or npm going away (`kill -TERM` of `npm start` ends npm
 * without passing the signal on), stop the server, which stops what it started (clusters, the
 * engine build), and then this process.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { siteBuildState } from './site-build.ts';

const root = path.resolve(import.meta.dirname, '..');
// The site serves without it, but the terminal needs bubblewrap; install it when we can.
const system = spawnSync('bash', [path.join(root, 'scripts/ensure-system-packages.sh'), '--runtime'], { cwd: root, stdio: 'inherit' });
if (system.status !== 0) console.warn('irlab: continuing without the terminal sandbox (see above); the site itself works.');

const built = siteBuildState(root);
if (built !== 'fresh') {
  console.log(built === 'stale' ? 'irlab: sources changed since the last build; rebuilding...' : 'irlab: building the site (first start)...');
  const started = Date.now();
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/astro/bin/astro.mjs'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.error('irlab: the build failed (see above); nothing was started.');
    process.exit(build.status ?? 1);
  }
  console.log(`irlab: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// The instructor token: generated and printed on first start, then kept in the data directory.
const { ensureInstructorToken } = await import('../src/server/instructors/token.ts');
const { dataDir } = await import('../src/server/store/database.ts');
const instructor = ensureInstructorToken({ dir: dataDir(process.env, root) });
if (instructor.source !== 'generated') {
  console.log(`irlab: instructor pages at /instructor/quizzes/<quiz>; token ${instructor.source === 'env' ? 'from IRLAB_INSTRUCTOR_TOKEN' : `in ${instructor.file}`}`);
}

const port = process.env.PORT ?? '4321';
const host = process.env.HOST ?? 'localhost';
const server = spawn(process.execPath, [path.join(root, 'src/server/app/serve.ts')], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PORT: port, HOST: host, IRLAB_ENGINE_BUILD: process.env.IRLAB_ENGINE_BUILD ?? 'auto' },
});
console.log(`irlab: serving on http://${host}:${port} (Ctrl+C to stop)`);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => server.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal));
// npm does not pass a SIGTERM on to its script: it exits, and this process is adopted. Node has
// no parent-death signal, so look for the adoption (the parent pid changes).
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  console.log(`irlab: the parent process (${parent}) went away; stopping the server`);
  server.kill('SIGTERM');
}, 500);
server.on('exit', (code, signal) => {
  clearInterval(orphaned);
  process.exit(code ?? (signal ? 0 : 1));
});
