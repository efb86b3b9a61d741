import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { apiServerError, startAndWatchApiServer } from './apiserver-watch.ts';
import { clusterPaths, type ClusterPaths } from './kwokctl.ts';
import { systemClock } from './runtime.ts';

// Verbatim kube-apiserver v1.37.2 output when started with an audit policy
// whose omitStages names an unknown stage (captured from logs/kube-apiserver.log).
const REFUSED = `I1127 18:45:20.439693    1582 options.go:261] external host was not specified, using 192.0.2.2
I1127 18:45:20.444507    1582 server.go:151] Version: v1.37.2
I1127 18:45:20.689654    1582 shared_informer.go:503] "Waiting for caches to sync" controller="node_authorizer"
E1127 18:45:20.689990    1582 run.go:72] "command failed" err="loading audit policy file: omitStages[0]: Invalid value: \\"NotAStage\\": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic: from file /x/audit.yaml"
`;

describe('apiServerError', () => {
  it("lifts kube-apiserver's own fatal error out of its log, unescaped", () => {
    expect(apiServerError(REFUSED)).toBe(
      'loading audit policy file: omitStages[0]: Invalid value: "NotAStage": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic: from file /x/audit.yaml',
    );
  });

  it('falls back to a cobra "Error:" line, and to nothing for a healthy log', () => {
    expect(apiServerError('I1127 starting\nError: unknown flag: --bogus\n')).toBe('Error: unknown flag: --bogus');
    expect(apiServerError(REFUSED.split('\n').slice(0, 3).join('\n'))).toBeUndefined();
  });
});

describe('startAndWatchApiServer with watchAll', () => {
  // The verbatim last line of a kube-controller-manager v1.37.2 that stopped waiting for a slow
  // API server (seen under load 30 on 2 cores; trimmed /healthz body).
  const GAVE_UP = `E1207 09:31:58.618409   18208 controllermanager.go:271] "Error building controller context" err="failed to wait for apiserver being healthy: timed out waiting for the condition: failed to get apiserver /healthz status: an error on the server (\\"[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\\\\nhealthz check failed\\") has prevented the request from succeeding"\n`;

  async function fixture(controllerLog: string) {
    const dir = await mkdtemp(join(tmpdir(), 'irlab-watch-'));
    const paths = clusterPaths(dir, 'c');
    await mkdir(paths.pidsDir, { recursive: true });
    await mkdir(paths.logsDir, { recursive: true });
    const apiserver = spawn('sleep', ['60'], { stdio: 'ignore' });
    const controller = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => controller.once('exit', resolve));
    await writeFile(join(paths.pidsDir, 'kube-apiserver.pid'), `${apiserver.pid}\n`);
    await writeFile(join(paths.pidsDir, 'kube-controller-manager.pid'), `${controller.pid}\n`);
    await writeFile(join(paths.logsDir, 'kube-controller-manager.log'), controllerLog);
    await writeFile(join(paths.logsDir, 'kube-apiserver.log'), '');
    const cleanup = async () => {
      apiserver.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    };
    return { paths, cleanup };
  }

  const watch = (paths: ClusterPaths, readyAfter: number) => {
    let polls = 0;
    return startAndWatchApiServer({
      paths,
      clock: systemClock,
      // Ready only after the dead controller has certainly been seen by a few polls.
      ready: async () => ++polls > readyAfter,
      timeoutMs: 30_000,
      label: 'kwokctl create cluster',
      watchAll: true,
      start: async () => ({ code: 0, stdout: '', stderr: '' }),
    });
  };

  it('does not fail a create whose controller stopped waiting for a slow API server: it names it to be started again', async () => {
    const { paths, cleanup } = await fixture(`I1207 starting\n${GAVE_UP}`);
    try {
      const outcome = await watch(paths, 3);
      expect(outcome).toMatchObject({ ok: true, gaveUp: ['kube-controller-manager'] });
    } finally {
      await cleanup();
    }
  });

  it('still fails at once when a controller dies for any other reason, with its own last words', async () => {
    const { paths, cleanup } = await fixture('E1207 listen tcp 127.0.0.1:1: bind: address already in use\n');
    try {
      const outcome = await watch(paths, 3);
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.message).toMatch(/kube-controller-manager exited at startup:[\s\S]*address already in use/);
    } finally {
      await cleanup();
    }
  });
});
