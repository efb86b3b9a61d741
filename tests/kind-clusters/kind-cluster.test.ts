// End to end on a REAL kind cluster: the node image engine/kind/build.sh builds offline, on the
// engine that answers or irlab's own dockerd (started for this file and stopped after it when it
// was not running before). One cluster, built on step by step the way a lab does: real RBAC and
// audit events, an audit policy swap and a refused one, a real container (exec, logs),
// NetworkPolicy enforced by connectivity, and a delete that leaves nothing behind.

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findAuditEvent, statusOf } from '../integration/fixtures/cluster-calls.ts';

import { auditLogEnd } from '../../src/server/cluster/audit-log.ts';
import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { ensureKindEngine, type KindEngine } from '../../src/server/cluster/kind-engine.ts';
import { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { nodeRunner, waitUntil } from '../../src/server/cluster/runtime.ts';
import { AuditPolicyRejectedError, type AuditEvent, type ClusterInfo } from '../../src/server/cluster/types.ts';

const run = promisify(execFile);
const NS = 'lab';
const SA = 'intruder';
const IMAGE = `irlab-kind-test:${randomBytes(3).toString('hex')}`;
const name = `kt-${randomBytes(3).toString('hex')}`;
const kubectl = join(binDir(readEngineVersions()), 'kubectl');

let stateDir: string;
let provider: KindProvider;
let info: ClusterInfo;
let admin: KubeConfig;
let engine: KindEngine;
/** The node container's own volumes (kind gives it an anonymous one for /var). */
let nodeVolumes: string[] = [];

const docker = async (args: string[]): Promise<string> => (await run(engine.engine, args, { env: engine.env, timeout: 60_000 })).stdout.trim();
const k = async (...args: string[]): Promise<string> => (await run(kubectl, ['--kubeconfig', info.kubeconfigPath, ...args], { timeout: 60_000 })).stdout;



/** A 2 MB image of the host's static busybox, imported into the engine: nothing is pulled. */
async function importBusybox(): Promise<void> {
  const script = 'set -e; r=$(mktemp -d); mkdir -p "$r/bin" "$r/tmp" "$r/www"; cp /bin/busybox "$r/bin/"; for a in sh httpd nc printf sleep cat echo mkdir tr tar; do ln -s busybox "$r/bin/$a"; done; echo served >"$r/www/index.html"; tar -C "$r" -c . | "$0" import -c "ENV PATH=/bin" - "$1" >/dev/null; rm -rf "$r"';
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', ['-c', script, engine.engine, IMAGE], { env: engine.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`importing busybox failed (${code}): ${err}`))));
  });
}

/** Whether `client` (a pod) gets the server pod's page within 2 s. */
async function reaches(client: string, ip: string): Promise<boolean> {
  try {
    // busybox nc, not wget: Debian's static busybox wget segfaults (its resolver needs NSS).
    return (await k('exec', '-n', NS, client, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 8080`)).includes('served');
  } catch {
    return false;
  }
}

const findEvent = (offset: number, match: (e: AuditEvent) => boolean): Promise<AuditEvent> => findAuditEvent(info.auditLogPath, offset, match, 30_000);

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'irlab-kind-it-'));
  provider = new KindProvider({ stateDir });
  const available = await provider.available();
  if (!available.ok) throw new Error(`kind provider unavailable: ${available.problems.join('; ')} (run \`irlab engine build --kind\`)`);
  // The engine create will use (ours is started here if none answers).
  engine = await ensureKindEngine(nodeRunner, process.env);
  info = await provider.create({ name, timeoutMs: 300_000 });
  nodeVolumes = (await docker(['inspect', '-f', '{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}', `${name}-control-plane`])).split(' ').filter(Boolean);
  admin = loadKubeConfig(info.kubeconfigPath);
  await importBusybox();
  await provider.loadImage(name, IMAGE);
}, 420_000);

afterAll(async () => {
  // Safety net if a test failed before the delete test ran.
  await provider?.delete(name).catch(() => undefined);
  if (engine) await docker(['rmi', IMAGE]).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
}, 180_000);

describe('kind cluster on the offline node image', () => {
  it('runs a kubeadm control plane on one Ready node of the version the engine pins', async () => {
    const nodes = await admin.makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual([`${name}-control-plane`]);
    expect(nodes.items[0]?.status?.nodeInfo?.kubeletVersion).toBe(readEngineVersions().k8s);
    expect(JSON.parse(await k('version', '-o', 'json')).serverVersion.gitVersion).toBe(readEngineVersions().k8s);
  });

  it('enforces real RBAC on a ServiceAccount token and audits who and the decision', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: SA } } });
    const token = (await core.createNamespacedServiceAccountToken({ name: SA, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 600 } } })).status?.token ?? '';
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(admin.getCurrentCluster()!, { name: SA, token });
    const asSa = kc.makeApiClient(CoreV1Api);
    const user = `system:serviceaccount:${NS}:${SA}`;

    const before = await auditLogEnd(info.auditLogPath);
    expect(await statusOf(asSa.listNamespacedSecret({ namespace: NS }))).toBe(403);
    const denied = await findEvent(before, (e) => e.user.username === user && e.objectRef?.resource === 'secrets');
    expect(denied).toMatchObject({ verb: 'list', stage: 'ResponseComplete', responseStatus: { code: 403 } });
    expect(denied.annotations?.['authorization.k8s.io/decision']).toBe('forbid');

    await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: 'read-secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: { metadata: { name: 'read-secrets' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' }, subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }] },
    });
    const afterBinding = await auditLogEnd(info.auditLogPath);
    await waitUntil(async () => (await statusOf(asSa.listNamespacedSecret({ namespace: NS }))) === 200, { timeoutMs: 15_000, what: 'the RoleBinding to take effect' });
    const allowed = await findEvent(afterBinding, (e) => e.user.username === user && e.responseStatus?.code === 200);
    expect(allowed.annotations?.['authorization.k8s.io/decision']).toBe('allow');
  }, 60_000);

  it('runs a real container: exec, logs and cp reach it', async () => {
    // The controller manager gives the namespace its default service account a moment after it exists.
    const core = admin.makeApiClient(CoreV1Api);
    await waitUntil(async () => (await statusOf(core.readNamespacedServiceAccount({ namespace: NS, name: 'default' }))) === 200, { timeoutMs: 60_000, what: `the ${NS} namespace's default service account` });
    await k('run', '-n', NS, 'shell', `--image=${IMAGE}`, '--image-pull-policy=Never', '--restart=Never', '--command', '--', 'sh', '-c', 'echo started in a real container; exec sleep 3600');
    await k('wait', '-n', NS, '--for=condition=Ready', 'pod/shell', '--timeout=120s');
    expect((await k('exec', '-n', NS, 'shell', '--', 'sh', '-c', 'echo "$(cat /proc/1/cmdline | tr "\\0" " ")"')).trim()).toBe('sleep 3600');
    expect(await k('logs', '-n', NS, 'shell')).toContain('started in a real container');
    // kubectl cp (a tar stream through exec), both ways: evidence leaves the container intact.
    await k('exec', '-n', NS, 'shell', '--', 'sh', '-c', 'echo "evidence $HOSTNAME" >/tmp/evidence.txt');
    const local = join(stateDir, 'evidence.txt');
    await k('cp', `${NS}/shell:/tmp/evidence.txt`, local);
    expect(await readFile(local, 'utf8')).toBe('evidence shell\n');
    await writeFile(local, 'planted back\n');
    await k('cp', local, `${NS}/shell:/tmp/back.txt`);
    expect(await k('exec', '-n', NS, 'shell', '--', 'cat', '/tmp/back.txt')).toBe('planted back\n');
  }, 150_000);

  it('enforces NetworkPolicy: connections are cut or allowed as the policies say', async () => {
    await k('run', '-n', NS, 'web', `--image=${IMAGE}`, '--image-pull-policy=Never', '--restart=Never', '--labels=app=web', '--command', '--', 'httpd', '-f', '-p', '8080', '-h', '/www');
    await k('run', '-n', NS, 'frontend', `--image=${IMAGE}`, '--image-pull-policy=Never', '--restart=Never', '--labels=role=frontend', '--command', '--', 'sleep', '3600');
    await k('run', '-n', NS, 'other', `--image=${IMAGE}`, '--image-pull-policy=Never', '--restart=Never', '--labels=role=other', '--command', '--', 'sleep', '3600');
    await k('wait', '-n', NS, '--for=condition=Ready', 'pod/web', 'pod/frontend', 'pod/other', '--timeout=120s');
    const ip = (await k('get', 'pod', '-n', NS, 'web', '-o', 'jsonpath={.status.podIP}')).trim();
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await reaches('frontend', ip)).toBe(true);
    expect(await reaches('other', ip)).toBe(true);

    const net = admin.makeApiClient(NetworkingV1Api);
    await net.createNamespacedNetworkPolicy({ namespace: NS, body: { metadata: { name: 'deny-web' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } } });
    const what = (w: string) => ({ timeoutMs: 60_000, intervalMs: 500, what: w });
    await waitUntil(async () => !(await reaches('frontend', ip)) && !(await reaches('other', ip)), what('deny-all ingress to cut both clients'));

    await net.createNamespacedNetworkPolicy({
      namespace: NS,
      body: { metadata: { name: 'allow-frontend' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }] } },
    });
    await waitUntil(() => reaches('frontend', ip), what('the frontend to be allowed back'));
    expect(await reaches('other', ip)).toBe(false);

    await net.deleteNamespacedNetworkPolicy({ namespace: NS, name: 'deny-web' });
    await net.deleteNamespacedNetworkPolicy({ namespace: NS, name: 'allow-frontend' });
    await waitUntil(() => reaches('other', ip), what('traffic to flow again without policies'));
  }, 300_000);

  it('swaps the audit policy: the API server logs at the new level', async () => {
    const policy = join(stateDir, 'request-response.yaml');
    await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: RequestResponse\n    resources: [{ group: "", resources: ["configmaps"] }]\n  - level: Metadata\n');
    await provider.setAuditPolicy(name, policy);
    const before = await auditLogEnd(info.auditLogPath);
    await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-swap' }, data: { k: 'v' } } });
    const event = await findEvent(before, (e) => e.verb === 'create' && e.objectRef?.name === 'after-swap');
    expect(event.level).toBe('RequestResponse');
    expect(event.requestObject).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' } });
  }, 180_000);

  it('refuses a policy the API server refuses, with its message, and keeps the previous one', async () => {
    const previous = await readFile(join(stateDir, name, 'policies', 'audit-policy.yaml'), 'utf8');
    const invalid = join(stateDir, 'invalid.yaml');
    await writeFile(invalid, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["NotAStage"]\nrules:\n  - level: Metadata\n');
    const err = await provider.setAuditPolicy(name, invalid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditPolicyRejectedError);
    expect((err as AuditPolicyRejectedError).apiServerMessage).toMatch(/NotAStage/);
    expect(await readFile(join(stateDir, name, 'policies', 'audit-policy.yaml'), 'utf8')).toBe(previous);
    expect((await provider.health(name)).apiServerReady).toBe(true);
    const before = await auditLogEnd(info.auditLogPath);
    await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-reject' }, data: { k: 'v' } } });
    expect((await findEvent(before, (e) => e.objectRef?.name === 'after-reject')).level).toBe('RequestResponse');
  }, 300_000);

  it('delete leaves no container, volume, network or file', async () => {
    // Removed while the engine still runs: the last delete stops ours, and an image left in its
    // store stays there for good (four were found after earlier runs).
    await docker(['rmi', IMAGE]);
    await provider.delete(name);
    // The engine may be ours and stopped now: ask it only while it answers.
    const answers = await docker(['info', '--format', '{{.ServerVersion}}']).then(() => true, () => false);
    if (answers) {
      expect(await docker(['ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${name}`])).toBe('');
      expect(nodeVolumes.length).toBeGreaterThan(0);
      const volumes = (await docker(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
      expect(volumes.filter((v) => nodeVolumes.includes(v))).toEqual([]);
      const others = await docker(['ps', '-aq', '--filter', 'label=io.x-k8s.kind.cluster']);
      if (!others) expect(await docker(['network', 'ls', '--format', '{{.Name}}'])).not.toMatch(/^kind$/m);
    }
    await expect(readFile(info.kubeconfigPath)).rejects.toThrow(/ENOENT/);
    expect((await provider.list()).map((c) => c.name)).not.toContain(name);
  }, 180_000);
});
