import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { missingEngineMessage, probeContainerEngines } from './container-engine.ts';
import type { Runner, RunResult } from './runtime.ts';
import { parseProviderChoice, selectProvider } from './select-provider.ts';
import { ClusterError } from './types.ts';
import { EmbeddedProvider } from './embedded-provider.ts';
import { KindProvider } from './kind-provider.ts';
import { engineClusters } from '../terminal/cluster-source.ts';

/** A runner that answers from a table (a whole command line first, else the command); records what was asked. */
function scriptedRunner(answers: Record<string, RunResult>): Runner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async run(command, args) {
      const key = [command, ...args].join(' ');
      calls.push(key);
      return answers[key] ?? answers[command] ?? { code: 127, stdout: '', stderr: `spawn ${command} ENOENT` };
    },
  };
}

const noDaemon: RunResult = {
  code: 1,
  stdout: '',
  stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
};
const dockerUp: RunResult = { code: 0, stdout: '28.1.1\n', stderr: '' };

// Real providers pointed at paths that hold nothing: selection must not touch them.
// IRLAB_CACHE too: the machine's own cache may hold a built kind node image (node-image.tag).
const nowhere = { binDir: '/nonexistent/irlab-bin', env: { IRLAB_CACHE: '/nonexistent/irlab-cache' } };
const make = {
  embedded: () => new EmbeddedProvider({ ...nowhere, workDir: '/nonexistent/irlab-kwok' }),
  kind: () => new KindProvider({ ...nowhere, stateDir: '/nonexistent/irlab-kind' }),
};

describe('selectProvider', () => {
  it('uses embedded when no engine answers (docker client without daemon)', async () => {
    const runner = scriptedRunner({ docker: noDaemon });
    const s = await selectProvider({ runner, env: {}, make });
    expect(s.provider.name).toBe('embedded');
    expect(s.reason).toMatch(/no Docker\/Podman engine/);
    expect(runner.calls).toContain('docker info --format {{.ServerVersion}}');
  });

  const image = async () => 'kindest/node:v1.37.2';

  it('uses kind when docker answers, kind is built and its node image is there', async () => {
    const s = await selectProvider({ runner: scriptedRunner({ docker: dockerUp }), env: {}, make, kindBuilt: async () => true, kindNodeImage: image });
    expect(s.provider.name).toBe('kind');
    expect(s.reason).toBe('kind (docker engine answered, node image kindest/node:v1.37.2 present)');
  });

  it('never gives an untrusted learner kind: auto picks embedded where kind would run, an explicit kind is refused saying why', async () => {
    const ready = { runner: scriptedRunner({ docker: dockerUp }), make, kindBuilt: async () => true, kindNodeImage: image, untrusted: true };
    const s = await selectProvider({ ...ready, env: {} });
    expect(s.provider.name).toBe('embedded');
    expect(s.reason).toMatch(/never kind/);
    for (const asked of [{ env: { IRLAB_PROVIDER: 'kind' } }, { env: {}, requested: 'kind' }]) {
      await expect(selectProvider({ ...ready, ...asked })).rejects.toThrow(/never kind: with its admin credential a privileged pod reaches this machine's disks/);
    }
    expect((await selectProvider({ ...ready, env: { IRLAB_PROVIDER: 'embedded' } })).provider.name).toBe('embedded');
  });

  it('uses kind when only podman answers', async () => {
    const runner = scriptedRunner({ podman: { code: 0, stdout: '5.4.0', stderr: '' } });
    const s = await selectProvider({ runner, env: {}, make, kindBuilt: async () => true, kindNodeImage: image });
    expect(s.reason).toBe('kind (podman engine answered, node image kindest/node:v1.37.2 present)');
    expect(runner.calls).toContain('podman inspect --type=image kindest/node:v1.37.2');
  });

  it('falls back to embedded when kind cannot tell which node image it boots', async () => {
    const s = await selectProvider({ runner: scriptedRunner({ docker: dockerUp }), env: {}, make, kindBuilt: async () => true, kindNodeImage: async () => undefined });
    expect(s.provider.name).toBe('embedded');
    expect(s.reason).toMatch(/node image is unknown/);
  });

  it('falls back to embedded when an engine answers but kind is not built', async () => {
    const s = await selectProvider({ runner: scriptedRunner({ docker: dockerUp }), env: {}, make, kindBuilt: async () => false });
    expect(s.provider.name).toBe('embedded');
    expect(s.reason).toMatch(/kind is not built/);
  });

  it('honours --provider over the machine, without probing', async () => {
    const runner = scriptedRunner({ docker: dockerUp });
    const s = await selectProvider({ requested: 'embedded', runner, env: {}, make });
    expect(s.provider.name).toBe('embedded');
    expect(s.reason).toBe('embedded (chosen by --provider)');
    expect(runner.calls).toEqual([]);
  });

  it('honours an explicit kind even with no engine (create then fails fast)', async () => {
    const s = await selectProvider({ requested: 'kind', runner: scriptedRunner({ docker: noDaemon }), env: {}, make });
    expect(s.provider.name).toBe('kind');
  });

  it('reads IRLAB_PROVIDER when no flag is given; the flag wins over it', async () => {
    const runner = scriptedRunner({});
    expect((await selectProvider({ runner, env: { IRLAB_PROVIDER: 'kind' }, make })).reason).toBe('kind (chosen by IRLAB_PROVIDER)');
    const both = await selectProvider({ requested: 'embedded', runner, env: { IRLAB_PROVIDER: 'kind' }, make });
    expect(both.provider.name).toBe('embedded');
  });

  it('treats --provider auto like no flag', async () => {
    const s = await selectProvider({ requested: 'auto', runner: scriptedRunner({}), env: {}, make });
    expect(s.provider.name).toBe('embedded');
  });

  it('rejects unknown providers with the valid choices', () => {
    expect(() => parseProviderChoice('minikube')).toThrow(ClusterError);
    expect(() => parseProviderChoice('minikube')).toThrow(/unknown provider "minikube"/);
  });
});

// kind built (a file holding its default node image, as the real binary does) and a docker engine
// that answers but holds no node image: auto-selection, and so the /terminal fallback, must
// never run kind (whose create would pull about 1 GB from a public registry).
describe('kind without its node image', () => {
  const nodeImage = `kindest/node:v1.37.2@sha256:${'ab'.repeat(32)}`;
  const inspect = `docker inspect --type=image ${nodeImage}`;
  const noSuchImage: RunResult = { code: 1, stdout: '[]', stderr: `Error: No such image: ${nodeImage}` };
  let dir: string;
  /** A cache of this test's own: the machine's may hold a built node image. */
  const cacheEnv = () => ({ IRLAB_CACHE: join(dir, 'cache') });
  const providers = (runner: Runner) => ({
    embedded: () => new EmbeddedProvider({ binDir: join(dir, 'nothing'), env: {}, workDir: join(dir, 'kwok'), runner }),
    kind: () => new KindProvider({ binDir: dir, env: cacheEnv(), stateDir: join(dir, 'kind-state'), runner }),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'irlab-kind-image-'));
    await writeFile(join(dir, 'kind'), `\x7fELF...kind v0.33.0 go1.25...${nodeImage}\0kindest/node:v1.2.3 (help example)`);
    await chmod(join(dir, 'kind'), 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the default node image from the kind binary', async () => {
    expect(await new KindProvider({ binDir: dir, env: cacheEnv() }).nodeImageRef()).toBe(nodeImage);
    expect(await new KindProvider({ binDir: dir, env: { ...cacheEnv(), IRLAB_KIND_NODE_IMAGE: 'kindest/node:v9.9.9' } }).nodeImageRef()).toBe('kindest/node:v9.9.9');
  });

  it('prefers the node image `irlab engine build --kind` built to the kind binary\'s own', async () => {
    const cache = join(dir, 'built-cache');
    await mkdir(join(cache, 'kind'), { recursive: true });
    await writeFile(join(cache, 'kind', 'node-image.tag'), 'irlab/kind-node:v1.37.2-0123456789abcdef\n');
    expect(await new KindProvider({ binDir: dir, env: { IRLAB_CACHE: cache } }).nodeImageRef()).toBe('irlab/kind-node:v1.37.2-0123456789abcdef');
    expect(await new KindProvider({ binDir: dir, env: { IRLAB_CACHE: cache, IRLAB_KIND_NODE_IMAGE: 'kindest/node:v9.9.9' } }).nodeImageRef()).toBe('kindest/node:v9.9.9');
  });

  it('picks embedded, with the reason, when the engine does not hold the image', async () => {
    const runner = scriptedRunner({ docker: dockerUp, [inspect]: noSuchImage });
    const s = await selectProvider({ runner, env: {}, make: providers(runner) });
    expect(s.provider.name).toBe('embedded');
    expect(s.reason).toBe(`embedded (docker answers, but kind's node image ${nodeImage} is not in it: \`docker pull ${nodeImage}\` first, or set IRLAB_PROVIDER=kind)`);
    expect(runner.calls).toContain(inspect);
    expect(runner.calls.filter((c) => /\bkind\b.*create|\bpull\b/.test(c))).toEqual([]);
  });

  it('never runs kind for a /terminal session while the image is missing (decided per session)', async () => {
    const runner = scriptedRunner({ docker: dockerUp, [inspect]: noSuchImage });
    const lease = engineClusters(async () => selectProvider({ runner, env: {}, make: providers(runner) }));
    // The embedded provider here has no binaries, so its create fails; what matters is who was asked.
    // The learner is told which engine failed, not its output; the cause keeps that for the log.
    const failed = (await lease('lrn_1').catch((error: unknown) => error)) as Error;
    expect(failed.message).toMatch(/could not be created \(embedded\)/);
    expect(String((failed.cause as Error).message)).toMatch(/kube-apiserver|etcd|binar/i);
    expect(runner.calls.filter((c) => c.startsWith(join(dir, 'kind')) || /\bpull\b/.test(c))).toEqual([]);

    // The image arrives while the server runs: the next session gets kind.
    const later = scriptedRunner({ docker: dockerUp, [inspect]: { code: 0, stdout: '[{}]', stderr: '' } });
    const s = await selectProvider({ runner: later, env: {}, make: providers(later) });
    expect(s.provider.name).toBe('kind');
    expect(s.reason).toBe(`kind (docker engine answered, node image ${nodeImage} present)`);
  });
});

describe('container engine probe', () => {
  it('tells a missing CLI, a silent daemon and a timeout apart', async () => {
    const runner = scriptedRunner({ docker: noDaemon, podman: { code: 124, stdout: '', stderr: 'timed out' } });
    const probes = await probeContainerEngines(runner, 5_000);
    expect(probes).toEqual([
      { engine: 'docker', ok: false, detail: noDaemon.stderr },
      { engine: 'podman', ok: false, detail: '`podman info` did not answer within 5000 ms' },
    ]);
    const onlyDocker = await probeContainerEngines(scriptedRunner({ docker: noDaemon }));
    expect(onlyDocker[1]).toEqual({ engine: 'podman', ok: false, detail: 'podman CLI not installed' });
  });

  it('says what is missing and how to get it', async () => {
    const message = missingEngineMessage(await probeContainerEngines(scriptedRunner({ docker: noDaemon })));
    expect(message).toContain('needs a running Docker or Podman engine');
    expect(message).toContain('Is the docker daemon running?');
    expect(message).toContain('https://docs.docker.com/engine/install/');
    expect(message).toContain('--provider embedded');
  });
});

describe('kind provider without an engine', () => {
  it('fails at its first step, saying what is missing', async () => {
    const kind = new KindProvider({ ...nowhere, stateDir: '/nonexistent/irlab-kind', runner: scriptedRunner({ docker: noDaemon }) });
    const steps: string[] = [];
    const err = await kind.create({ name: 'lab-x', onStep: (s) => steps.push(s) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect(steps).toEqual(['check container engine']);
    expect((err as Error).message).toMatch(/^step "check container engine" failed: the kind provider needs a running Docker or Podman engine/);
  });
});
