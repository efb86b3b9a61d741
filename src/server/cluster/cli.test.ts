import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runClusterCommand, type CliIo } from './cli.ts';
import { EmbeddedProvider } from './embedded-provider.ts';
import { KindProvider } from './kind-provider.ts';
import type { Runner } from './runtime.ts';

// The docker CLI is installed but no daemon answers: what this machine looks like.
const noEngine: Runner = {
  async run(command) {
    if (command === 'docker') {
      return { code: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' };
    }
    return { code: 127, stdout: '', stderr: `spawn ${command} ENOENT` };
  },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irlab-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Partial<CliIo> = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: {},
    runner: noEngine,
    providers: () => [
      new EmbeddedProvider({ env: {}, runner: noEngine, binDir: join(dir, 'bin'), workDir: join(dir, 'kwok') }),
      new KindProvider({ env: { IRLAB_CACHE: join(dir, 'cache') }, runner: noEngine, binDir: join(dir, 'bin'), stateDir: join(dir, 'kind') }),
    ],
  };
  const code = await runClusterCommand(argv, io);
  return { code, out, err };
}

describe('irlab cluster CLI', () => {
  it('prints usage for no command and refuses unknown ones', async () => {
    const none = await cli([]);
    expect(none.code).toBe(0);
    expect(none.err).toMatch(/irlab cluster create/);
    expect((await cli(['cluster', 'explode'])).code).toBe(2);
  });

  it('fails fast on --provider kind without a container engine, saying what to install', async () => {
    const started = Date.now();
    const r = await cli(['cluster', 'create', '--provider', 'kind', '--name', 'lab-1']);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('provider: kind (chosen by --provider)');
    expect(r.err).toContain('step "check container engine" failed');
    expect(r.err).toContain('Is the docker daemon running?');
    expect(r.err).toContain('https://docs.docker.com/engine/install/');
    expect(r.err).toContain('--provider embedded');
  });

  it('says how to get the binaries when the embedded engine is not built', async () => {
    const r = await cli(['cluster', 'create', '--name', 'lab-2']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('provider: embedded (no Docker/Podman engine answered)');
    expect(r.err).toContain('step "check binaries" failed: missing cluster binaries');
    expect(r.err).toContain('hint: Build them once with `irlab engine build`');
  });

  it('refuses an engine build option it does not know, before building anything', async () => {
    const r = await cli(['engine', 'build', '--knd']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --knd');
    expect(r.err).toContain('irlab engine build [--kind]');
  });

  it('rejects an unknown provider and a bad name', async () => {
    expect((await cli(['cluster', 'create', '--provider', 'minikube'])).err).toMatch(/unknown provider "minikube"/);
    expect((await cli(['cluster', 'create', '--provider', 'embedded', '--name', 'Bad_Name'])).err).toMatch(/invalid cluster name/);
  });

  it('lists nothing and refuses to delete or audit unknown clusters', async () => {
    expect((await cli(['cluster', 'list'])).out).toBe('NAME  PROVIDER  KUBECONFIG\n');
    const del = await cli(['cluster', 'delete', 'ghost']);
    expect(del.code).toBe(1);
    expect(del.err).toMatch(/no cluster named ghost/);
    expect((await cli(['cluster', 'audit', 'ghost', '--follow'])).err).toMatch(/no cluster named ghost/);
    expect((await cli(['cluster', 'delete'])).err).toMatch(/expected: cluster delete N/);
  });
});
