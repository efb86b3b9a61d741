// EngineBuild (src/server/cluster/engine-build.ts) running the real engine/build.sh on a cache of
// our own: the real binaries are linked in from the shared cache except the pod sandbox, which the
// build then really compiles (seconds, standard library only), so a whole build (plan, steps,
// verify) runs without compiling Kubernetes.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { binDir, EMBEDDED_BINARIES, podSandboxBinaryName, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { EngineBuild } from '../../src/server/cluster/engine-build.ts';
import { processesUnder } from '../../src/server/cluster/host-census.ts';
import type { EngineStatus } from '../../src/lib/engine-status.ts';

const versions = readEngineVersions();
const shared = binDir(versions, { ...process.env, IRLAB_CACHE: undefined });

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-engine-build-it-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** A cache of its own holding the shared cache's binaries, but not this checkout's pod sandbox. */
async function cacheWithoutSandbox(name: string): Promise<string> {
  for (const binary of [...EMBEDDED_BINARIES, 'kind']) {
    expect(existsSync(join(shared, binary)), `${shared}/${binary} is missing: run \`irlab engine build\` first`).toBe(true);
  }
  const cache = join(work, name);
  const bin = binDir(versions, { IRLAB_CACHE: cache });
  await mkdir(bin, { recursive: true });
  // The control plane as build.sh lays it out: the multi-call binary, and a link named for each
  // component pointing at it (build.sh relinks a cache where they are anything else).
  await symlink(join(shared, 'irlab-kube'), join(bin, 'irlab-kube'));
  for (const binary of [...EMBEDDED_BINARIES, 'kind']) {
    await symlink(CONTROL_PLANE.includes(binary) ? 'irlab-kube' : join(shared, binary), join(bin, binary));
  }
  return cache;
}

function engineFor(cache: string, extraEnv: NodeJS.ProcessEnv = {}): { engine: EngineBuild; lines: string[] } {
  const lines: string[] = [];
  const engine = new EngineBuild({ env: { ...process.env, IRLAB_CACHE: cache, ...extraEnv }, config: { mode: 'auto', reportSeconds: 3600 }, log: (line) => lines.push(line) });
  return { engine, lines };
}

/** Resolves once `engine` reports `state` (checked on every line it logs and every 100 ms). */
async function until(engine: EngineBuild, state: EngineStatus['state'], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (engine.status().state !== state) {
    if (Date.now() > deadline) throw new Error(`the engine never reported ${state}; it says ${JSON.stringify(engine.status())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('EngineBuild with the real engine/build.sh', () => {
  it('builds what is missing, reports its steps, then is ready and records how long each step took', async () => {
    const cache = await cacheWithoutSandbox('missing-sandbox');
    const { engine, lines } = engineFor(cache);
    expect(engine.status()).toMatchObject({ state: 'missing', message: expect.stringContaining(podSandboxBinaryName()) });
    engine.start();
    expect(await engine.ready()).toBe(true);
    expect(engine.status()).toEqual({ state: 'ready' });
    expect(lines.join('\n')).toMatch(new RegExp(`engine build step 2/3: building ${podSandboxBinaryName()} · \\d+ s elapsed, about \\d+ s left`));
    expect(lines.at(-1)).toMatch(/^irlab: engine: built in \d+ s; labs and terminals get clusters now$/);
    const times = JSON.parse(await readFile(join(cache, 'engine-build-times.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(times)).toEqual(['podsandbox']);
    expect(await readFile(join(cache, 'engine-build.log'), 'utf8')).toContain('plan: packages podsandbox verify');
  }, 180_000);

  it('says what failed and how to fix it', async () => {
    const cache = await cacheWithoutSandbox('no-go');
    // A PATH without Go: build.sh's first check fails, as on a machine without Go.
    const { engine, lines } = engineFor(cache, { PATH: '/usr/bin:/bin' });
    engine.start();
    expect(await engine.ready()).toBe(false);
    expect(engine.status()).toEqual({
      state: 'failed',
      what: 'checking the engine',
      message: 'go is not on PATH; install Go >= 1.26 (https://go.dev/dl/) and re-run.',
      hint: `Fix what the message says, then run \`irlab engine build\` or restart \`npm start\`. The whole log is in ${join(cache, 'engine-build.log')}.`,
    });
    expect(lines.join('\n')).toContain('irlab: engine build FAILED at "checking the engine"');
  }, 60_000);

  it('waits while another build holds the cache, then builds, and stop() ends the build with nothing left', async () => {
    const cache = await cacheWithoutSandbox('locked');
    // Another build: holds the cache's lock until its stdin closes.
    const holder = spawn('flock', [join(cache, 'engine-build.lock'), 'cat'], { stdio: ['pipe', 'ignore', 'inherit'] });
    await new Promise((resolve) => holder.once('spawn', resolve));
    const first = engineFor(cache);
    // Only once the holder has the lock for certain: flock -n from a probe fails.
    await until(first.engine, 'missing', 1000);
    for (;;) {
      const probe = spawn('flock', ['-n', join(cache, 'engine-build.lock'), 'true']);
      const code = await new Promise<number | null>((resolve) => probe.once('exit', resolve));
      if (code !== 0) break;
    }
    first.engine.start();
    await until(first.engine, 'waiting', 60_000);
    expect(first.engine.status()).toMatchObject({ state: 'waiting', message: expect.stringContaining('another engine build of this cache is running') });
    // Stopped while waiting: build.sh and its flock go, the holder stays.
    await first.engine.stop();
    expect(first.engine.status()).toMatchObject({ state: 'failed', message: 'the build was stopped with the server' });
    expect(processesUnder(cache).map((p) => p.command)).toEqual([expect.stringContaining('flock')]);

    const second = engineFor(cache);
    second.engine.start();
    await until(second.engine, 'waiting', 60_000);
    holder.stdin.end();
    expect(await second.engine.ready()).toBe(true);
    expect(processesUnder(cache)).toEqual([]);
  }, 180_000);
});
