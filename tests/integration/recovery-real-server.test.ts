// Issue 17, recovery, on REAL clusters through the real server process (serve.ts over the built
// site): a lab cluster whose kube-apiserver is killed comes back on its own; a cluster the
// /terminal page made is owned on disk, so a server killed with SIGKILL leaves nothing running
// after the next start; a lab run whose cluster went with the crash gets a freshly seeded one,
// its progress kept, Check working again, the learner told, and its shell on the new cluster
// (never on a cluster of another engine).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabView, StepView } from '../../src/lib/lab-view.ts';
import { processesUnder } from '../../src/server/cluster/host-census.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { clusterPaths, readPid } from '../../src/server/cluster/kwokctl.ts';
import { processState, waitUntil } from '../../src/server/cluster/runtime.ts';
import { validateProjectLabs, type LoadedLab } from '../../src/server/lab/labs.ts';
import { fillSolution } from '../../src/server/lab/solution.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'irlab-recovery-'));
const kwok = path.join(dir, 'kwok');
const env = {
  // Pinned: the terminal's own clusters must be embedded ones whatever this machine has.
  IRLAB_PROVIDER: 'embedded',
  IRLAB_TERMINAL_CLUSTER: 'engine',
  IRLAB_SCENARIO_TIME_SCALE: '0.002',
  IRLAB_SCENARIO_WAITING_TIME_SCALE: '0.002',
  IRLAB_WATCHDOG_SECONDS: '1',
  IRLAB_WATCHDOG_READYZ_SECONDS: '2',
};
let server: RealServer;
let lab: LoadedLab;
const cookies: Record<string, string> = {};

async function api<T>(who: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: T & { error?: string } }> {
  const response = await fetch(`${server.base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', origin: server.base, ...(cookies[who] ? { cookie: cookies[who] } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(240_000),
  });
  cookies[who] ||= response.headers.get('set-cookie')?.split(';')[0] ?? '';
  return { status: response.status, body: (await response.json()) as T & { error?: string } };
}

const keyOf = async (cluster: string): Promise<AnswerKey> => JSON.parse(await readFile(path.join(server.dataDir, 'answer-keys', `${cluster}.json`), 'utf8')) as AnswerKey;
const answersFor = (stepId: string, key: AnswerKey) =>
  Object.fromEntries(Object.entries(lab.lab.steps.find((s) => s.id === stepId)!.solutionAnswers).map(([id, text]) => [id, fillSolution(text, key)]));
const view = async () => (await api<LabView>('lea', 'GET', '/api/labs/l18')).body;

let firstCluster = '';
let termCluster = '';

beforeAll(async () => {
  const { labs, problems } = await validateProjectLabs(process.cwd());
  expect(problems).toEqual([]);
  lab = labs.find((l) => l.slug === 'l18')!;
  server = await startRealServer(env, { root: dir });
}, 90_000);

afterAll(async () => {
  if (server) {
    await api('lea', 'POST', '/api/labs/l18/reset').catch(() => undefined);
    await server.stop();
  }
  const left = processesUnder(path.join(kwok, 'clusters'));
  // Not clusters, and not this test's subject: the killed server's learner shells and workspace
  // mounts outlive it (the terminal's to reap at start; see docs/engine.md, "Recovery").
  for (const { pid } of processesUnder(dir)) process.kill(pid, 'SIGKILL');
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${dir}/`)) execFileSync('umount', ['-l', target]);
  }
  rmSync(dir, { recursive: true, force: true });
  expect(left.map((p) => p.command)).toEqual([]);
}, 180_000);

describe('recovery on real clusters', () => {
  it('a lab cluster whose kube-apiserver was killed with SIGKILL serves again, without Reset', async () => {
    const started = await api<LabView>('lea', 'POST', '/api/labs/l18/start');
    expect(started.status, started.body.error).toBe(200);
    firstCluster = started.body.run!.cluster;
    const investigated = await api<StepView>('lea', 'POST', '/api/labs/l18/check', { step: 'investigate', answers: answersFor('investigate', await keyOf(firstCluster)) });
    expect(investigated.status, investigated.body.error).toBe(200);
    expect(investigated.body.passed).toBe(true);

    const paths = clusterPaths(kwok, firstCluster);
    const victim = (await readPid(paths.pidsDir, 'kube-apiserver'))!;
    process.kill(victim, 'SIGKILL');
    const core = loadKubeConfig(paths.kubeconfig).makeApiClient(CoreV1Api);
    await waitUntil(async () => processState(victim) !== 'running', { timeoutMs: 10_000, what: `kube-apiserver ${victim} to die` });
    await waitUntil(async () => (await core.listNamespace()).items.length > 0, { timeoutMs: 120_000, intervalMs: 500, what: 'the lab cluster to answer again after its kube-apiserver was killed' });
    expect(await readPid(paths.pidsDir, 'kube-apiserver')).not.toBe(victim);
    // Repaired in place, not replaced: the learner's run is on the same cluster.
    expect((await view()).run!.cluster).toBe(firstCluster);
    await waitUntil(async () => server.output.some((line) => line.includes(`watchdog: cluster ${firstCluster} repaired`)), { timeoutMs: 120_000, intervalMs: 250, what: 'the watchdog to report the repair' });
    console.info(`recovery: ${server.output.find((l) => l.includes('repaired in')) ?? ''}`);
  }, 300_000);

  it('a cluster the /terminal page made is reaped at the next start after a SIGKILL of the server', async () => {
    const opened = await api<{ cluster: string | null }>('tom', 'POST', '/api/terminal/session', { cols: 80, rows: 24 });
    expect(opened.status, opened.body.error).toBe(200);
    termCluster = opened.body.cluster ?? '';
    expect(termCluster).toMatch(/^term-/);
    const termDir = clusterPaths(kwok, termCluster).dir;
    expect(processesUnder(termDir).length).toBeGreaterThan(0);

    server.child.kill('SIGKILL');
    await server.exited;
    // The crash leaves the clusters' processes running: they are daemons of their own.
    expect(processesUnder(termDir).length).toBeGreaterThan(0);

    server = await startRealServer(env, { root: dir });
    await waitUntil(async () => processesUnder(termDir).length === 0 && !existsSync(termDir), { timeoutMs: 120_000, intervalMs: 250, what: `${termCluster}, left by the killed server, to be reaped` });
  }, 300_000);

  it('after the restart the lab run gets a freshly seeded cluster: progress kept, Check works, the learner is told, the shell is on it', async () => {
    const asked = performance.now();
    const after = await view();
    // docs/labs.md quotes this figure.
    console.info(`recovery: the first GET after the restart answered in ${((performance.now() - asked) / 1000).toFixed(1)} s; ${server.output.find((l) => l.includes('progress kept')) ?? ''}`);
    expect(after.run?.cluster).toBeDefined();
    expect(after.run!.cluster).not.toBe(firstCluster);
    expect(after.run!.recovered).toMatchObject({ from: firstCluster });
    expect(after.steps.find((s) => s.id === 'investigate')!.passed).toBe(true);

    const key = await keyOf(after.run!.cluster);
    const scope = await api<StepView>('lea', 'POST', '/api/labs/l18/check', { step: 'scope', answers: answersFor('scope', key) });
    expect(scope.status, scope.body.error).toBe(200);
    expect(scope.body.result!.criteria.filter((c) => !c.passed)).toEqual([]);

    const shell = await api<{ cluster: string | null }>('lea', 'POST', '/api/terminal/session', { cols: 80, rows: 24 });
    expect(shell.status, shell.body.error).toBe(200);
    expect(shell.body.cluster).toBe(after.run!.cluster);
    expect(existsSync(clusterPaths(kwok, firstCluster).dir)).toBe(false);
  }, 300_000);
});
