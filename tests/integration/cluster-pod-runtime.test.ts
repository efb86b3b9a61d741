// `irlab cluster create` on a REAL embedded cluster: it says that its simulated pods have no
// runtime (kubectl exec answers "no exec found"), and `irlab cluster pod-runtime N` gives them one
// for as long as it runs; pods it prepared keep working after Ctrl-C.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { podRuntimeCommand } from '../../src/server/cli/pod-runtime.ts';
import { runClusterCommand } from '../../src/server/cluster/cli.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { waitUntil } from '../../src/server/cluster/runtime.ts';

const run = promisify(execFile);
const name = `cli-pods-${randomBytes(3).toString('hex')}`;
let work: string;
let provider: EmbeddedProvider;
let kubeconfig: string;
const createErr: string[] = [];

async function kubectl(args: string[]) {
  return run(join(provider.binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 });
}

async function exec(pod: string): Promise<string> {
  try {
    return (await kubectl(['exec', pod, '--', 'cat', '/etc/hostname'])).stdout.trim();
  } catch (error) {
    return `failed: ${(error as { stderr?: string }).stderr ?? String(error)}`;
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-cli-pods-'));
  const env = { ...process.env, KWOK_WORKDIR: join(work, 'kwok') };
  provider = new EmbeddedProvider({ workDir: join(work, 'kwok') });
  const out: string[] = [];
  const code = await runClusterCommand(['cluster', 'create', '--name', name, '--provider', 'embedded'], { env, stdout: (t) => out.push(t), stderr: (t) => createErr.push(t) });
  expect(code, createErr.join('')).toBe(0);
  kubeconfig = out.join('').trim();
}, 300_000);

afterAll(async () => {
  await provider.delete(name).catch(() => {});
  await rm(work, { recursive: true, force: true });
}, 120_000);

describe('irlab cluster create and pod-runtime', () => {
  it('says that the pods have no runtime, and which command gives them one', async () => {
    expect(createErr.join('')).toContain(`irlab cluster pod-runtime ${name}`);
    await kubectl(['run', 'before', '--image=registry.shop.internal/web-app:2.14.1']);
    await waitUntil(async () => (await kubectl(['get', 'pod', 'before', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', { timeoutMs: 60_000, what: 'pod before running' });
    expect(await exec('before')).toMatch(/failed: .*no exec found/i);
  }, 120_000);

  it('gives existing and new pods kubectl exec while it runs; they keep it after Ctrl-C', async () => {
    const stop = new AbortController();
    const err: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const done = podRuntimeCommand([name], {
      signal: stop.signal,
      providers: () => [provider],
      err: (text) => {
        err.push(text);
        if (text.includes('running')) started();
      },
    });
    await Promise.race([running, done.then((code) => Promise.reject(new Error(`pod-runtime ended with ${code}: ${err.join('\n')}`)))]);
    await waitUntil(async () => (await exec('before')) === 'before', { timeoutMs: 60_000, what: 'exec in the pod made before the runtime' });
    await kubectl(['run', 'after', '--image=registry.shop.internal/web-app:2.14.1']);
    await waitUntil(async () => (await exec('after')) === 'after', { timeoutMs: 60_000, what: 'exec in a pod made while the runtime runs' });
    stop.abort();
    expect(await done).toBe(0);
    expect(await exec('after')).toBe('after');
  }, 240_000);

  it('refuses a cluster that does not exist, with the fix', async () => {
    const err: string[] = [];
    expect(await podRuntimeCommand(['no-such-cluster'], { signal: AbortSignal.abort(), providers: () => [provider], err: (t) => err.push(t) })).toBe(1);
    expect(err.join('\n')).toContain('irlab cluster list');
  });
});
