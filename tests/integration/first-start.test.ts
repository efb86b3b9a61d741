// The first start on a machine without the cluster engine (issue 17): `npm start` with an empty
// IRLAB_CACHE serves the site within seconds, builds the engine in the background with its
// progress on the console and at GET /api/engine, refuses a lab start with that progress until
// the build is done, then fills the warm pool on its own and a lab starts; SIGTERM to npm (which
// does not pass it on) leaves no process behind, during the build or after it.
//
// The Go build cache may be warm (the real GOCACHE is used): then the build links rather than
// compiles, a few minutes here; cold, it is ~10 min (docs/engine.md). Needs `npx astro build`.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { processesUnder } from '../../src/server/cluster/host-census.ts';
import type { EngineStatus } from '../../src/lib/engine-status.ts';
import { freePort } from './hostile/real-server.ts';

const root = join(import.meta.dirname, '../..');

let work: string;
beforeAll(async () => {
  expect(existsSync(join(root, 'dist/server/entry.mjs')), 'the site is not built: run `npx astro build` first').toBe(true);
  work = await mkdtemp(join(tmpdir(), 'irlab-first-start-it-'));
});
afterAll(async () => {
  // A failed test may leave its server: everything it started carries `work` in its environment.
  for (const { pid } of processesUnder(work)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await rm(work, { recursive: true, force: true });
});

interface Started {
  npm: ChildProcess;
  base: string;
  output: string[];
  exited: Promise<number | null>;
  dir: string;
}

/** `npm start` on a port of its own, everything (cache, data, clusters) under `dir`. */
async function npmStart(dir: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      IRLAB_CACHE: join(dir, 'cache'),
      IRLAB_DATA_DIR: join(dir, 'data'),
      KWOK_WORKDIR: join(dir, 'kwok'),
      IRLAB_TERMINAL_CLUSTER: 'none',
      IRLAB_ENGINE_REPORT_SECONDS: '5',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [npm.stdout!, npm.stderr!]) createInterface({ input: stream }).on('line', (line) => output.push(line));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  return { npm, base: `http://127.0.0.1:${port}`, output, exited, dir };
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with the server's output. */
async function until<T>(server: Started, what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; the server said:\n${server.output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const engineStatus = async (server: Started) => (await (await fetch(`${server.base}/api/engine`)).json()) as EngineStatus;

/** SIGTERM to npm, then every process the start made (all carry `dir` in their environment) is gone. */
async function stopAndExpectNothingLeft(server: Started): Promise<void> {
  expect(processesUnder(server.dir).length).toBeGreaterThan(1);
  server.npm.kill('SIGTERM');
  await server.exited;
  const left = await until(server, 'every process gone after SIGTERM', 90_000, async () => (processesUnder(server.dir).length === 0 ? [] : undefined)).catch(() => processesUnder(server.dir));
  expect(left.map((p) => p.command), server.output.join('\n')).toEqual([]);
  await expect(fetch(`${server.base}/api/health`)).rejects.toThrow();
}

describe('npm start without the cluster engine', () => {
  it('serves at once, reports the build, and SIGTERM mid-build stops everything (the build included)', async () => {
    const dir = await mkdtemp(join(work, 'sigterm-'));
    const started = Date.now();
    const server = await npmStart(dir, { IRLAB_WARM_POOL_SIZE: '0', IRLAB_LAB_PREPARED: '0' });
    await until(server, 'the site answering', 60_000, async () => ((await fetch(`${server.base}/`)).ok ? true : undefined));
    console.log(`first-start: the site answered ${((Date.now() - started) / 1000).toFixed(1)} s after npm start`);
    const building = await until(server, 'the build reporting a step', 120_000, async () => {
      const status = await engineStatus(server);
      return status.state === 'building' && status.what.includes('kube-apiserver') ? status : undefined;
    });
    expect(building).toMatchObject({ step: 1, steps: 8, elapsedSeconds: expect.any(Number), remainingSeconds: expect.any(Number) });
    await stopAndExpectNothingLeft(server);
  }, 300_000);

  it('builds the engine in the background, then the warm pool fills and a lab starts', async () => {
    const dir = await mkdtemp(join(work, 'full-'));
    const started = Date.now();
    const server = await npmStart(dir, { IRLAB_WARM_POOL_SIZE: '1', IRLAB_LAB_PREPARED: '0' });
    await until(server, 'the site answering', 60_000, async () => ((await fetch(`${server.base}/labs/l18`)).ok ? true : undefined));
    const siteSeconds = (Date.now() - started) / 1000;

    // Progress: on the API, and on the console (step k/n, what, elapsed, estimate).
    const status = await until(server, 'the build reporting a step', 120_000, async () => {
      const s = await engineStatus(server);
      return s.state === 'building' ? s : undefined;
    });
    expect(status).toMatchObject({ steps: 8, what: expect.stringContaining('kube-apiserver'), fraction: expect.any(Number) });
    await until(server, 'a progress line on the console', 60_000, async () =>
      server.output.find((line) => /^irlab: engine build step 1\/8: building .*kube-apiserver.* · \d.* elapsed, about \d.* left$/.test(line)),
    );

    // Meanwhile a lab start says why it cannot, with the progress.
    const early = await fetch(`${server.base}/api/labs/l18/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({ error: expect.stringContaining('The cluster engine is being built'), engine: { state: 'building' } });

    // Done: the warm pool fills on its own, without a restart.
    const built = await until(server, 'the engine built', 1_500_000, async () => server.output.find((line) => line.startsWith('irlab: engine: built in')));
    console.log(`first-start: site in ${siteSeconds.toFixed(1)} s; ${built}`);
    expect(await engineStatus(server)).toEqual({ state: 'ready' });
    await until(server, 'a warm pool cluster', 300_000, async () => server.output.find((line) => /warm pool: \S+ ready in/.test(line)));

    // And a lab starts, on the pool's cluster.
    const start = await fetch(`${server.base}/api/labs/l18/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await start.json()) as { run?: { cluster: string; provider: string } };
    expect(start.status, JSON.stringify(body)).toBe(200);
    expect(body.run).toMatchObject({ provider: 'embedded', cluster: expect.any(String) });

    await stopAndExpectNothingLeft(server);
  }, 1_800_000);

  it('stops the server when npm start itself is killed with SIGKILL (it cannot pass anything on)', async () => {
    const dir = join(work, 'killed');
    const server = await npmStart(dir, { IRLAB_ENGINE_BUILD: 'off', IRLAB_WARM_POOL_SIZE: '0', IRLAB_LAB_PREPARED: '0' });
    await until(server, 'the site answering', 120_000, async () => ((await fetch(`${server.base}/api/health`)).ok ? true : undefined));
    // The node process itself, not npm's `sh -c` around it (killing that one leaves start.ts to
    // notice its adoption and stop the server, which is not what this is about).
    const start = processesUnder(dir).find((p) => p.command.includes('scripts/start.ts') && !p.command.startsWith('sh '));
    expect(start, processesUnder(dir).map((p) => p.command).join('\n')).toBeDefined();
    process.kill(start!.pid, 'SIGKILL');
    const left = await until(server, 'every process gone after SIGKILL of start.ts', 60_000, async () => (processesUnder(dir).length === 0 ? [] : undefined)).catch(() => processesUnder(dir));
    expect(left.map((p) => p.command), server.output.join('\n')).toEqual([]);
    server.npm.kill('SIGTERM');
    await server.exited;
  }, 240_000);
});
