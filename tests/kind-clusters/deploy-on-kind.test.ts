// irlab deployed on a REAL kind cluster with deploy/kubernetes, as fronts and cells: the image
// deploy/image/build.sh builds offline, loaded into the node (no registry), `kubectl apply -k` of
// base + components/privileged-cell through an overlay with the test's values: PostgreSQL, 2 fronts
// (a Deployment behind the irlab Service), 2 cells (a StatefulSet, warm pool 0). Through the
// fronts (kubectl port-forward): health, a page, a learner who joins a class and submits the L18
// quiz, starts L18 (placed on a cell pod: the placements table says which) and checks a step
// through either front. Then the front she used is deleted mid-session and her cookie checks again
// through the other with the same verdict; then her cell is deleted: her check answers 503 with the
// lost message, and a fresh Start lands on a live cell with her progress kept.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { LOST_MESSAGE } from '../../src/server/front/front-proxy.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const kubectl = join(binDir(readEngineVersions()), 'kubectl');
const name = `kd-${randomBytes(3).toString('hex')}`;
const NS = 'irlab';
const token = `kind-test-instructor-${randomBytes(12).toString('hex')}`;
const forwardKey = randomBytes(36).toString('base64url');
const dbPassword = randomBytes(18).toString('hex');

let stateDir: string;
let provider: KindProvider;
let engine: KindEngine;
let info: ClusterInfo;
/** Every `kubectl port-forward` started, stopped in afterAll. */
const forwards = new Set<ChildProcess>();

const k = async (args: string[], timeout = 120_000): Promise<string> => (await run(kubectl, ['--kubeconfig', info.kubeconfigPath, ...args], { timeout, maxBuffer: 16 << 20 })).stdout;
const inNode = async (script: string): Promise<string> => (await run(engine.engine, ['exec', `${name}-control-plane`, 'sh', '-c', script], { env: engine.env, timeout: 60_000 })).stdout;
const psql = async (sql: string): Promise<string> => (await k(['-n', NS, 'exec', 'postgres-0', '--', 'psql', '-h', '/tmp', '-U', 'irlab', '-d', 'irlab', '-tAc', sql])).trim();

/** Polls `probe` every 500 ms until it gives a value; fails naming `what` after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  }
}

/** deploy/image/build.sh: finds the image by its hash, or builds what changed; its tag. */
async function buildImage(): Promise<string> {
  const { stdout } = await run('bash', [join(root, 'deploy/image/build.sh')], { env: { ...process.env, ...engine.env }, timeout: 1_200_000, maxBuffer: 16 << 20 });
  const tag = stdout.trim().split('\n').pop() ?? '';
  if (!/^irlab\/server:[0-9a-f]{16}$/.test(tag)) throw new Error(`deploy/image/build.sh printed no tag (last line: ${tag})`);
  return tag;
}

/** `kubectl port-forward` to `target` (svc/irlab, pod/<front>) on a free local port: its base URL. */
async function portForward(target: string): Promise<string> {
  const child = spawn(kubectl, ['--kubeconfig', info.kubeconfigPath, '-n', NS, 'port-forward', target, target.startsWith('svc/') ? ':80' : ':4321', '--address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  forwards.add(child);
  const port = await new Promise<string>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl port-forward ${target} printed no port within 30 s`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const found = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(line)?.[1];
      if (found) {
        clearTimeout(timer);
        resolvePort(found);
      }
    });
    child.once('exit', (code) => reject(new Error(`kubectl port-forward ${target} exited (${code})`)));
  });
  return `http://127.0.0.1:${port}`;
}

async function call<T>(base: string, target: string, init: { body?: unknown; cookie?: string; bearer?: boolean } = {}): Promise<{ status: number; body: T; cookie: string }> {
  const response = await fetch(`${base}${target}`, {
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

/** A front's memory, for docs/deploy.md: the server's RSS and anonymous memory (smaps_rollup), and its container's cgroup where the node shows it. */
async function frontMemory(pod: string): Promise<string> {
  const script = 'for p in /proc/[0-9]*; do grep -q "app/serv[e].ts" $p/cmdline 2>/dev/null && pid=${p#/proc/}; done; grep -E "^(Rss|Anonymous):" /proc/$pid/smaps_rollup | tr -s " " | cut -d" " -f2; cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || echo 0';
  const [rss, anonymous, cgroup] = (await k(['-n', NS, 'exec', pod, '-c', 'irlab', '--', 'sh', '-c', script])).trim().split(/\s+/).map(Number);
  return `${pod}: RSS ${Math.round(rss! / 1024)} MiB, anonymous ${Math.round(anonymous! / 1024)} MiB, cgroup ${cgroup ? `${Math.round(cgroup / 2 ** 20)} MiB` : 'not visible'}`;
}

/** The front pods running and not being deleted. */
async function frontPods(): Promise<string[]> {
  const list = JSON.parse(await k(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/component=front', '-o', 'json'])) as { items: Array<{ metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }> };
  return list.items.filter((pod) => pod.status.phase === 'Running' && !pod.metadata.deletionTimestamp).map((pod) => pod.metadata.name);
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

  // No provisioner image is in the offline node: hostPath volumes stand in, on the node's disk,
  // owned by the uid the pods run as. They bind through the cluster's default class.
  const defaultClass = (await k(['get', 'storageclass', '-o', 'jsonpath={.items[?(@.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class=="true")].metadata.name}'])).trim();
  const volumes = ['postgres', 'cell-0', 'cell-1'];
  await inNode(volumes.map((v) => `mkdir -p /var/irlab-pv/${v} && chown 10001:10001 /var/irlab-pv/${v}`).join(' && '));
  const pv = (volume: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `irlab-${volume}` },
    spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: defaultClass, hostPath: { path: `/var/irlab-pv/${volume}`, type: 'Directory' }, claimRef: { namespace: NS, name: volume === 'postgres' ? 'data-postgres-0' : `data-${volume}` } },
  });
  const overlay = join(stateDir, 'overlay');
  await run('mkdir', ['-p', overlay]);
  await writeFile(join(overlay, 'volumes.yaml'), volumes.map((v) => JSON.stringify(pv(v))).join('\n---\n'));
  // The test's own values, as an operator's overlay would set them: the built tag, its secrets,
  // no warm pool, no drain (a deleted cell leaves at once), requests that fit a 2-core node.
  const patch = (object: object) => `  - patch: '${JSON.stringify(object)}'`;
  const small = { requests: { cpu: '50m', memory: '256Mi' } };
  await writeFile(
    join(overlay, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(overlay, join(root, 'deploy/kubernetes/base'))}`,
      '  - volumes.yaml',
      'components:',
      `  - ${relative(overlay, join(root, 'deploy/kubernetes/components/privileged-cell'))}`,
      'images:',
      `  - { name: irlab/server, newTag: "${image.split(':')[1]}" }`,
      'patches:',
      patch({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'irlab-server', namespace: NS }, stringData: { 'instructor-token': token, 'forward-key': forwardKey } }),
      patch({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'irlab-database', namespace: NS }, stringData: { password: dbPassword, url: `postgres://irlab:${dbPassword}@postgres-0.postgres:5432/irlab` } }),
      patch({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'cell', namespace: NS },
        spec: { template: { spec: { containers: [{ name: 'irlab', resources: small, env: [{ name: 'IRLAB_WARM_POOL_SIZE', value: '0' }, { name: 'IRLAB_LAB_PREPARED', value: '0' }, { name: 'IRLAB_CELL_DRAIN_SECONDS', value: '0' }] }] } } },
      }),
      patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'front', namespace: NS }, spec: { template: { spec: { containers: [{ name: 'irlab', resources: small }] } } } }),
      '',
    ].join('\n'),
  );
  await k(['apply', '-k', overlay]);
  await k(['-n', NS, 'rollout', 'status', 'statefulset/postgres', '--timeout=300s'], 330_000);
  await k(['-n', NS, 'rollout', 'status', 'statefulset/cell', '--timeout=300s'], 330_000);
  await k(['-n', NS, 'rollout', 'status', 'deployment/front', '--timeout=300s'], 330_000);
}, 1_800_000);

afterAll(async () => {
  for (const child of forwards) child.kill();
  await provider?.delete(name).catch(() => undefined);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 180_000);

describe('irlab deployed on kind with deploy/kubernetes: fronts and cells', () => {
  it('serves a learner through either front, on a cell; survives a front and a cell deleted mid-session', async () => {
    // The irlab Service selects the two fronts and nothing else.
    const fronts = await frontPods();
    expect(fronts).toHaveLength(2);
    const frontIps = (await k(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/component=front', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/).sort();
    const endpoints = (await k(['-n', NS, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=irlab', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}'])).trim().split(/\s+/).sort();
    expect(endpoints).toEqual(frontIps);
    // Both cells registered in PostgreSQL under their pod's name and headless-Service URL.
    const registered = await until('both cells live in the registry', async () => {
      const rows = await psql("SELECT id || ' ' || url FROM cells WHERE state = 'live' ORDER BY id");
      return rows.split('\n').length === 2 ? rows : undefined;
    }, 120_000);
    expect(registered).toBe(`cell-0 http://cell-0.irlab-cells.${NS}.svc:4321\ncell-1 http://cell-1.irlab-cells.${NS}.svc:4321`);
    // The cells' engine checks are done before the first Start (inside each cell: no port-forward to it).
    for (const cell of ['cell-0', 'cell-1']) {
      await until(`${cell}'s engine check`, async () => {
        const state = await k(['-n', NS, 'exec', cell, '-c', 'irlab', '--', 'node', '-e', 'fetch("http://127.0.0.1:4321/api/engine").then((r) => r.json()).then((j) => console.log(j.state))']);
        return state.trim() !== 'checking' ? state.trim() : undefined;
      }, 180_000);
    }
    // The NetworkPolicy, enforced by the kind node's kube-router: a front reaches a cell, another pod does not.
    const probeCell = (pod: string) =>
      k(['-n', NS, 'exec', pod, '-c', pod === 'postgres-0' ? 'postgres' : 'irlab', '--', 'node', '-e', `fetch("http://cell-0.irlab-cells.${NS}.svc:4321/api/health", { signal: AbortSignal.timeout(5000) }).then((r) => console.log(r.status), (e) => console.log(e.cause?.code ?? e.name))`]);
    expect((await probeCell(fronts[0]!)).trim()).toBe('200');
    // (kube-router programs a new policy within seconds of the pods: poll, do not race it.)
    expect(await until('the cell NetworkPolicy refusing another pod', async () => {
      const answer = (await probeCell('postgres-0')).trim();
      return answer === '200' ? undefined : answer;
    }, 90_000)).toMatch(/TIMEOUT|TimeoutError|ECONNREFUSED|UND_ERR/);
    const idle = await Promise.all(fronts.map(frontMemory));

    const service = await portForward('svc/irlab');
    const [viaA, viaB] = await Promise.all(fronts.map((pod) => portForward(`pod/${pod}`)));
    expect((await call(service, '/api/health')).status).toBe(200);
    const page = await call<string>(viaA!, '/labs/l18');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');

    const created = await call<{ id: string; joinCode: string; error?: string }>(viaA!, '/api/classes', { body: { name: 'Kubernetes class' }, bearer: true });
    expect(created.status, created.body.error).toBe(201);
    const join = async (learner: string) => {
      const joined = await call<{ error?: string }>(viaA!, '/api/classes/join', { body: { code: created.body.joinCode, name: learner } });
      expect(joined.status, joined.body.error).toBe(200);
      expect(joined.cookie).not.toBe('');
      return joined.cookie;
    };
    const quiz = async (cookie: string) => {
      const attempt = await call<{ attempt: { id: string; questions: Array<{ id: string; options?: Array<{ id: string }> }> } }>(viaA!, '/api/quizzes/l18/attempts', { body: {}, cookie });
      expect(attempt.status).toBe(200);
      const question = attempt.body.attempt.questions.find((q) => q.options?.length)!;
      expect((await call(viaA!, `/api/quizzes/l18/attempts/${attempt.body.attempt.id}/answers`, { body: { questionId: question.id, answer: question.options![0]!.id }, cookie })).status).toBe(200);
      expect((await call(viaA!, `/api/quizzes/l18/attempts/${attempt.body.attempt.id}/submit`, { body: {}, cookie })).status).toBe(200);
      return attempt.body.attempt.id;
    };
    const ana = await join('Ana');
    const me = await call<{ id: string }>(viaB!, '/api/me', { cookie: ana });
    const attemptId = await quiz(ana);
    expect(await psql(`SELECT count(*) FROM quiz_attempts WHERE id = '${attemptId}'`)).toBe('1');
    // A few more learners at work on the same front (its memory under load, below).
    await Promise.all(['Bo', 'Cy', 'Di'].map(async (learner) => quiz(await join(learner))));

    // L18 through front A, placed on a cell pod; a step checked through front B: the same verdict.
    const started = await call<{ error?: string; run?: { cluster: string } }>(viaA!, '/api/labs/l18/start', { body: {}, cookie: ana });
    expect(started.status, started.body.error).toBe(200);
    const home = await psql(`SELECT cell_id FROM placements WHERE learner_id = '${me.body.id}' AND lost = 0`);
    expect(home).toMatch(/^cell-[01]$/);
    type Checked = { error?: string; result?: { criteria: unknown[] } };
    const checkedB = await call<Checked>(viaB!, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checkedB.status, checkedB.body.error).toBe(200);
    expect(checkedB.body.result?.criteria.length).toBeGreaterThan(0);
    const checkedA = await call<Checked>(viaA!, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(JSON.stringify(checkedA.body.result?.criteria)).toBe(JSON.stringify(checkedB.body.result?.criteria));
    const busy = await Promise.all(fronts.map(frontMemory));
    console.log(`deploy-on-kind: front memory idle: ${idle.join('; ')}; after 4 learners (quiz, L18 start and checks): ${busy.join('; ')}`);

    // Front A goes mid-session: her cookie checks again through front B, the same verdict.
    await k(['-n', NS, 'delete', 'pod', fronts[0]!, '--wait=true', '--timeout=120s'], 150_000);
    const afterFront = await call<Checked>(viaB!, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(afterFront.status, afterFront.body.error).toBe(200);
    expect(JSON.stringify(afterFront.body.result?.criteria)).toBe(JSON.stringify(checkedB.body.result?.criteria));
    type View = { run?: { cluster: string }; steps: Array<{ id: string; score: number; result?: { checkedAt: string } }> };
    const view = await call<View>(viaB!, '/api/labs/l18', { cookie: ana });
    expect(view.body.run?.cluster).toBe(started.body.run?.cluster);
    const stepBefore = view.body.steps.find((step) => step.id === 'audit-policy');
    expect(stepBefore?.result?.checkedAt).toBeTruthy();

    // Her cell goes (drain 0 here: it leaves at once): her placement is lost, a check says so,
    // and a fresh Start lands on a live cell with her progress kept.
    await k(['-n', NS, 'delete', 'pod', home, '--wait=true', '--timeout=180s'], 200_000);
    expect(await psql(`SELECT lost FROM placements WHERE learner_id = '${me.body.id}'`)).toBe('1');
    const lost = await call<{ error: string }>(viaB!, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(lost.status).toBe(503);
    expect(lost.body.error).toBe(LOST_MESSAGE);
    const again = await call<{ error?: string; run?: { cluster: string } }>(viaB!, '/api/labs/l18/start', { body: {}, cookie: ana });
    expect(again.status, again.body.error).toBe(200);
    const now = await psql(`SELECT p.cell_id || ' ' || c.state FROM placements p JOIN cells c ON c.id = p.cell_id WHERE p.learner_id = '${me.body.id}' AND p.lost = 0`);
    expect(now).toMatch(/^cell-[01] live$/);
    // Progress kept: the fresh cluster's run still shows the checks made on the lost cell.
    const progress = await call<View>(viaB!, '/api/labs/l18', { cookie: ana });
    expect(progress.body.run?.cluster).toBe(again.body.run?.cluster);
    expect(progress.body.steps.find((step) => step.id === 'audit-policy')).toMatchObject({ score: stepBefore!.score, result: { checkedAt: stepBefore!.result!.checkedAt } });
    const checkedAgain = await call<Checked>(viaB!, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: ana });
    expect(checkedAgain.status, checkedAgain.body.error).toBe(200);
    await call(viaB!, '/api/labs/l18/reset', { body: {}, cookie: ana });
  }, 900_000);
});
