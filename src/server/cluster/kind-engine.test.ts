import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { answeringEngine, builtNodeImage, ensureKindEngine, OUR_DOCKER_HOST } from './kind-engine.ts';
import type { Runner, RunResult } from './runtime.ts';
import { ClusterError } from './types.ts';

const up: RunResult = { code: 0, stdout: '20.10.24\n', stderr: '' };
const down: RunResult = { code: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon. Is the docker daemon running?' };

/**
 * Engines by where they listen: `docker` on the default socket, `ours` on irlab's socket, `podman`;
 * `start` is what `dockerd.sh start` does. Records every command with the DOCKER_HOST it ran with.
 */
function machine(state: { docker?: boolean; ours?: boolean; podman?: boolean; start?: RunResult }): Runner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async run(command, args, options = {}) {
      const host = options.env?.['DOCKER_HOST'] ?? '';
      calls.push(`${host ? `DOCKER_HOST=${host} ` : ''}${[command, ...args].join(' ')}`);
      if (command === 'bash' && args[1] === 'start') {
        const r = state.start ?? { code: 0, stdout: `DOCKER_HOST=${OUR_DOCKER_HOST}\n`, stderr: '' };
        if (r.code === 0) state.ours = true;
        return r;
      }
      if (command === 'podman') return state.podman ? up : { code: 127, stdout: '', stderr: 'not found' };
      if (command === 'docker') return (host === OUR_DOCKER_HOST ? state.ours : state.docker) ? up : down;
      return { code: 127, stdout: '', stderr: `spawn ${command} ENOENT` };
    },
  };
}

let cache: string;
let built: NodeJS.ProcessEnv;
let notBuilt: NodeJS.ProcessEnv;

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), 'irlab-kind-engine-'));
  await mkdir(join(cache, 'built', 'kind'), { recursive: true });
  await writeFile(join(cache, 'built', 'kind', 'node-image.tag'), 'irlab/kind-node:v1.37.2-0123456789abcdef\n');
  built = { IRLAB_CACHE: join(cache, 'built'), IRLAB_ENGINE_DIR: '/opt/irlab/engine' };
  notBuilt = { IRLAB_CACHE: join(cache, 'none'), IRLAB_ENGINE_DIR: '/opt/irlab/engine' };
});
afterAll(() => rm(cache, { recursive: true, force: true }));

describe('the engine a kind cluster runs on', () => {
  it('uses an engine that already answers, as it is, and never starts ours', async () => {
    const runner = machine({ docker: true });
    const engine = await ensureKindEngine(runner, built);
    expect(engine).toMatchObject({ engine: 'docker', ours: false });
    expect(engine.env['DOCKER_HOST']).toBeUndefined();
    expect(runner.calls.some((c) => c.startsWith('bash'))).toBe(false);
  });

  it('prefers podman to starting ours', async () => {
    expect(await ensureKindEngine(machine({ podman: true }), built)).toMatchObject({ engine: 'podman', ours: false });
  });

  it('uses ours when it is the one running, with DOCKER_HOST on its socket', async () => {
    const engine = await ensureKindEngine(machine({ ours: true }), built);
    expect(engine).toMatchObject({ engine: 'docker', ours: true });
    expect(engine.env['DOCKER_HOST']).toBe(OUR_DOCKER_HOST);
  });

  it('starts ours with dockerd.sh where the kind engine was built', async () => {
    const runner = machine({});
    const engine = await ensureKindEngine(runner, built);
    expect(engine.ours).toBe(true);
    expect(runner.calls).toContain('bash /opt/irlab/engine/kind/dockerd.sh start');
    expect((await answeringEngine(runner, built)).found?.ours).toBe(true);
  });

  it('never starts a daemon where `irlab engine build --kind` did not run, and says what to do', async () => {
    const runner = machine({});
    const err = await ensureKindEngine(runner, notBuilt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).message).toMatch(/needs a running Docker or Podman engine/);
    expect((err as ClusterError).hint).toMatch(/irlab engine build --kind/);
    expect(runner.calls.some((c) => c.startsWith('bash'))).toBe(false);
  });

  it('reports why ours did not start, with what dockerd.sh said', async () => {
    const runner = machine({ start: { code: 1, stdout: '', stderr: '[kind] ERROR: dockerd is not installed; run engine/kind/packages.sh' } });
    const err = (await ensureKindEngine(runner, built).catch((e: unknown) => e)) as ClusterError;
    expect(err.message).toMatch(/did not start either .*exited 1/);
    expect(err.message).toContain('dockerd is not installed');
  });
});

describe('the node image engine/kind/build.sh recorded', () => {
  it('reads the tag, and only an image reference', async () => {
    expect(await builtNodeImage(built)).toBe('irlab/kind-node:v1.37.2-0123456789abcdef');
    expect(await builtNodeImage(notBuilt)).toBeUndefined();
    const odd = join(cache, 'odd');
    await mkdir(join(odd, 'kind'), { recursive: true });
    for (const text of ['--privileged', 'irlab/kind-node', 'a b:c', '']) {
      await writeFile(join(odd, 'kind', 'node-image.tag'), text);
      expect(await builtNodeImage({ IRLAB_CACHE: odd }), text).toBeUndefined();
    }
  });
});
