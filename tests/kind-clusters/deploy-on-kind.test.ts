// irlab deployed on a REAL kind cluster with deploy/kubernetes: the image deploy/image/build.sh
// builds offline, loaded into the node (no registry), `kubectl apply -k`, PostgreSQL and the
// server as StatefulSets. Through the irlab Service (kubectl port-forward): health, a page, a
// learner who joins a class and submits the L18 quiz. Then the irlab pod is deleted; once the
// StatefulSet has brought it back, the same learner (her cookie) still sees her submitted attempt:
// the state is in PostgreSQL, not in the pod.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { ensureKindEngine, type KindEngine } from '../../src/server/cluster/kind-engine.ts';
import { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { nodeRunner } from '../../src/server/cluster/runtime.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const kubectl = join(binDir(readEngineVersions()), 'kubectl');
const name = `kd-${randomBytes(3).toString('hex')}`;
const NS = 'irlab';
const token = `kind-test-instructor-${randomBytes(12).toString('hex')}`;

let stateDir: string;
let provider: KindProvider;
let engine: KindEngine;
let info: ClusterInfo;
let forward: { child: ChildProcess; base: string } | undefined;
/** The test's kustomize overlay over deploy/kubernetes/base. */
let overlay: string;

const k = async (args: string[], timeout = 120_000): Promise<string> => (await run(kubectl, ['--kubeconfig', info.kubeconfigPath, ...args], { timeout, maxBuffer: 16 << 20 })).stdout;
const inNode = async (script: string): Promise<string> => (await run(engine.engine, ['exec', `${name}-control-plane`, 'sh', '-c', script], { env: engine.env, timeout: 60_000 })).stdout;

/** deploy/image/build.sh: finds the image by its hash, or builds what changed; its tag. */
async function buildImage(): Promise<string> {
  const { stdout } = await run('bash', [join(root, 'deploy/image/build.sh')], { env: { ...process.env, ...engine.env }, timeout: 1_200_000, maxBuffer: 16 << 20 });
  const tag = stdout.trim().split('\n').pop() ?? '';
  if (!/^irlab\/server:[0-9a-f]{16}$/.test(tag)) throw new Error(`deploy/image/build.sh printed no tag (last line: ${tag})`);
  return tag;
}

/** `kubectl port-forward` to the irlab Service on a free local port; a new one after a pod is replaced. */
async function portForward(): Promise<void> {
  forward?.child.kill();
  const child = spawn(kubectl, ['--kubeconfig', info.kubeconfigPath, '-n', NS, 'port-forward', 'svc/irlab', ':80', '--address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error('kubectl port-forward printed no port within 30 s')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const found = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(line)?.[1];
      if (found) {
        clearTimeout(timer);
        resolvePort(found);
      }
    });
    child.once('exit', (code) => reject(new Error(`kubectl port-forward exited (${code})`)));
  });
  forward = { child, base: `http://127.0.0.1:${port}` };
}

async function call<T>(target: string, init: { body?: unknown; cookie?: string; bearer?: boolean } = {}): Promise<{ status: number; body: T; cookie: string }> {
  const response = await fetch(`${forward!.base}${target}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...(init.bearer ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(240_000),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text;
  return { status: response.status, body: (json ? JSON.parse(text) : text) as T, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'irlab-deploy-kind-'));
  provider = new KindProvider({ stateDir });
  const available = await provider.available();
  if (!available.ok) throw new Error(`kind provider unavailable: ${available.problems.join('; ')} (run \`irlab engine build --kind\`)`);
  engine = await ensureKindEngine(nodeRunner, process.env);
  const image = await buildImage();
  info = await provider.create({ name, timeoutMs: 300_000 });
  await provider.loadImage(name, image);

  // No provisioner image is in the offline node: two hostPath volumes stand in, on the node's
  // disk, owned by the uid both pods run as. They bind through the cluster's default class.
  const defaultClass = (await k(['get', 'storageclass', '-o', 'jsonpath={.items[?(@.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class=="true")].metadata.name}'])).trim();
  await inNode('mkdir -p /var/irlab-pv/postgres /var/irlab-pv/irlab && chown 10001:10001 /var/irlab-pv/postgres /var/irlab-pv/irlab');
  const pv = (volume: string, claim: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `irlab-${volume}` },
    spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: defaultClass, hostPath: { path: `/var/irlab-pv/${volume}`, type: 'Directory' }, claimRef: { namespace: NS, name: claim } },
  });
  overlay = join(stateDir, 'overlay');
  await run('mkdir', ['-p', overlay]);
  await writeFile(join(overlay, 'volumes.yaml'), [pv('postgres', 'data-postgres-0'), pv('irlab', 'data-irlab-0')].map((o) => JSON.stringify(o)).join('\n---\n'));
  // The test's own values, as an operator's overlay would set them: the built tag, a token, no warm pool.
  await writeFile(
    join(overlay, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(overlay, join(root, 'deploy/kubernetes/base'))}`,
      '  - volumes.yaml',
      'images:',
      `  - { name: irlab/server, newTag: "${image.split(':')[1]}" }`,
      'patches:',
      `  - patch: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"irlab-server","namespace":"irlab"},"stringData":{"instructor-token":"${token}"}}'`,
      `  - patch: '${JSON.stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'irlab', namespace: NS }, spec: { template: { spec: { containers: [{ name: 'irlab', env: [{ name: 'IRLAB_WARM_POOL_SIZE', value: '0' }, { name: 'IRLAB_LAB_PREPARED', value: '0' }] }] } } } })}'`,
      '',
    ].join('\n'),
  );
  await k(['apply', '-k', overlay]);
  await k(['-n', NS, 'rollout', 'status', 'statefulset/postgres', '--timeout=300s'], 330_000);
  await k(['-n', NS, 'rollout', 'status', 'statefulset/irlab', '--timeout=300s'], 330_000);
  await portForward();
}, 1_800_000);

afterAll(async () => {
  forward?.child.kill();
  await provider?.delete(name).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
}, 180_000);

describe('irlab deployed on kind with deploy/kubernetes', () => {
  it('answers health and pages; a learner submits the L18 quiz; her attempt outlives the pod', async () => {
    expect((await call('/api/health')).status).toBe(200);
    const page = await call<string>('/labs/l18');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');

    const created = await call<{ id: string; joinCode: string; error?: string }>('/api/classes', { body: { name: 'Kubernetes class' }, bearer: true });
    expect(created.status, created.body.error).toBe(201);
    const joined = await call<{ error?: string }>('/api/classes/join', { body: { code: created.body.joinCode, name: 'Ana' } });
    expect(joined.status, joined.body.error).toBe(200);
    const ana = joined.cookie;
    expect(ana).not.toBe('');
    const me = await call<{ id: string }>('/api/me', { cookie: ana });
    const attempt = await call<{ attempt: { id: string; questions: Array<{ id: string; options?: Array<{ id: string }> }> } }>('/api/quizzes/l18/attempts', { body: {}, cookie: ana });
    expect(attempt.status).toBe(200);
    const question = attempt.body.attempt.questions.find((q) => q.options?.length)!;
    expect((await call(`/api/quizzes/l18/attempts/${attempt.body.attempt.id}/answers`, { body: { questionId: question.id, answer: question.options![0]!.id }, cookie: ana })).status).toBe(200);
    expect((await call(`/api/quizzes/l18/attempts/${attempt.body.attempt.id}/submit`, { body: {}, cookie: ana })).status).toBe(200);

    // The pod goes; the StatefulSet makes a new one (another uid) on the same volume and database.
    const before = (await k(['-n', NS, 'get', 'pod', 'irlab-0', '-o', 'jsonpath={.metadata.uid}'])).trim();
    await k(['-n', NS, 'delete', 'pod', 'irlab-0', '--wait=true', '--timeout=180s'], 200_000);
    // The StatefulSet makes the new pod a moment later: poll until it exists, then wait for Ready.
    for (const deadline = Date.now() + 120_000; ; ) {
      const uid = await k(['-n', NS, 'get', 'pod', 'irlab-0', '--ignore-not-found', '-o', 'jsonpath={.metadata.uid}']);
      if (uid.trim() && uid.trim() !== before) break;
      if (Date.now() > deadline) throw new Error('the StatefulSet made no new irlab-0 within 120 s');
      await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    }
    await k(['-n', NS, 'wait', '--for=condition=Ready', 'pod/irlab-0', '--timeout=300s'], 330_000);
    await portForward();

    expect((await call<{ id: string }>('/api/me', { cookie: ana })).body.id).toBe(me.body.id);
    const quiz = await call<{ attemptsUsed: number; attempt: { id: string; submitted: boolean; answers: Record<string, unknown> } }>('/api/quizzes/l18', { cookie: ana });
    expect(quiz.status).toBe(200);
    expect(quiz.body.attemptsUsed).toBe(1);
    expect(quiz.body.attempt).toMatchObject({ id: attempt.body.attempt.id, submitted: true, answers: { [question.id]: question.options![0]!.id } });
    // Where it lives: a row in PostgreSQL, no SQLite database in the pod's volume.
    expect(attempt.body.attempt.id).toMatch(/^[\w-]+$/);
    const rows = await k(['-n', NS, 'exec', 'postgres-0', '--', 'psql', '-h', '/tmp', '-U', 'irlab', '-d', 'irlab', '-tAc', `SELECT count(*) FROM quiz_attempts WHERE id = '${attempt.body.attempt.id}'`]);
    expect(rows.trim()).toBe('1');
    expect(await k(['-n', NS, 'exec', 'irlab-0', '--', 'sh', '-c', 'ls /var/lib/irlab/data; test ! -e /var/lib/irlab/data/irlab.db && echo no-sqlite'])).toContain('no-sqlite');
  }, 900_000);

  it('runs a lab inside the pod with components/privileged-cell', async () => {
    // The shipped component, applied on top of the same overlay: the pod is replaced as root and
    // privileged, which the embedded engine's pod sandbox needs today (docs/deploy.md, "Privileges").
    await writeFile(join(overlay, 'kustomization.yaml'), `${await readFile(join(overlay, 'kustomization.yaml'), 'utf8')}components:\n  - ${relative(overlay, join(root, 'deploy/kubernetes/components/privileged-cell'))}\n`);
    await k(['apply', '-k', overlay]);
    await k(['-n', NS, 'rollout', 'status', 'statefulset/irlab', '--timeout=300s'], 330_000);
    await portForward();
    for (const started = Date.now(); ; ) {
      const { state } = (await call<{ state: string }>('/api/engine')).body;
      if (state !== 'checking') break;
      if (Date.now() - started > 120_000) throw new Error('the server in the pod did not finish its engine check within 120 s');
      await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    }
    const joined = await call<{ error?: string }>('/api/classes/join', { body: { code: (await call<{ joinCode: string }>('/api/classes', { body: { name: 'Lab class' }, bearer: true })).body.joinCode, name: 'Bo' } });
    expect(joined.status, joined.body.error).toBe(200);
    const started = await call<{ error?: string }>('/api/labs/l18/start', { body: {}, cookie: joined.cookie });
    expect(started.status, started.body.error).toBe(200);
    const checked = await call<{ error?: string }>('/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: joined.cookie });
    expect(checked.status, checked.body.error).toBe(200);
    await call('/api/labs/l18/reset', { body: {}, cookie: joined.cookie });
  }, 900_000);
});
