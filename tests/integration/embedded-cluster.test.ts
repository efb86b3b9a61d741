// End-to-end on a REAL embedded cluster (etcd + kube-apiserver + controllers
// started by kwokctl from the engine cache). Needs `irlab engine build` first.
// One cluster per file, created once: each step builds on the previous one,
// the way a lab does (RBAC, then audit, then policy swaps, then teardown).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findAuditEvent, statusOf } from './fixtures/cluster-calls.ts';

import { auditLogEnd } from '../../src/server/cluster/audit-log.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { clusterPaths, readPid, readPids, type PidEntry } from '../../src/server/cluster/kwokctl.ts';
import { processState, waitUntil } from '../../src/server/cluster/runtime.ts';
import { AuditPolicyRejectedError, type AuditEvent, type ClusterInfo } from '../../src/server/cluster/types.ts';

const run = promisify(execFile);
const NS = 'lab';
const SA = 'intruder';
const FORWARDED_FOR = '203.0.113.7'; // TEST-NET-3: cannot be this machine's address

let workDir: string;
let provider: EmbeddedProvider;
let info: ClusterInfo;
let admin: KubeConfig;
let pidsAtStart: PidEntry[] = [];
const name = `it-${randomBytes(3).toString('hex')}`;


function serviceAccountClient(token: string): CoreV1Api {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(cluster, { name: SA, token });
  return kc.makeApiClient(CoreV1Api);
}


const findEvent = (offset: number, match: (e: AuditEvent) => boolean): Promise<AuditEvent> => findAuditEvent(info.auditLogPath, offset, match);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'irlab-it-'));
  provider = new EmbeddedProvider({ workDir });
  const available = await provider.available();
  if (!available.ok) throw new Error(`embedded provider unavailable: ${available.problems.join('; ')}`);
  info = await provider.create({ name, timeoutMs: 120_000 });
  admin = loadKubeConfig(info.kubeconfigPath);
  pidsAtStart = await readPids(clusterPaths(workDir, name).pidsDir);
}, 180_000);

afterAll(async () => {
  // Safety net if a test failed before the delete test ran.
  await provider?.delete(name).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
}, 120_000);

describe('embedded cluster on a real kube-apiserver', () => {
  it('runs every control-plane component as a live process', async () => {
    const components = pidsAtStart.map((p) => p.component).sort();
    expect(components).toEqual(
      expect.arrayContaining(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok-controller']),
    );
    for (const p of pidsAtStart) expect(processState(p.pid), p.component).toBe('running');
    const health = await provider.health(name);
    expect(health.apiServerReady).toBe(true);
    const nodes = await admin.makeApiClient(CoreV1Api).listNode();
    const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ready.map((n) => n.metadata?.name)).toEqual(['kwok-node-0']);
  });

  it('answers `kubectl get ns`', async () => {
    const kubectl = join(provider.binDir, 'kubectl');
    const { stdout } = await run(kubectl, ['--kubeconfig', info.kubeconfigPath, 'get', 'ns', '-o', 'name'], { timeout: 20_000 });
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system']));
    const { stdout: version } = await run(kubectl, ['--kubeconfig', info.kubeconfigPath, 'version', '-o', 'json']);
    expect(JSON.parse(version).serverVersion.gitVersion).toBe('v1.37.2');
  });

  it('enforces real RBAC on a ServiceAccount token and audits who, what, from where', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: SA } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: SA,
      namespace: NS,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const saCore = serviceAccountClient(tokenRequest.status?.token ?? '');
    const viaProxy = setHeaderOptions('X-Forwarded-For', FORWARDED_FOR);

    const before = await auditLogEnd(info.auditLogPath);
    expect(await statusOf(saCore.listNamespacedSecret({ namespace: NS }, viaProxy))).toBe(403);

    const denied = await findEvent(
      before,
      (e) => e.user.username === `system:serviceaccount:${NS}:${SA}` && e.verb === 'list' && e.objectRef?.resource === 'secrets',
    );
    expect(denied.objectRef).toMatchObject({ resource: 'secrets', namespace: NS, apiVersion: 'v1' });
    expect(denied.responseStatus?.code).toBe(403);
    expect(denied.sourceIPs?.[0]).toBe(FORWARDED_FOR);
    expect(denied.sourceIPs).toContain('127.0.0.1');
    expect(denied.level).toBe('Metadata');
    expect(denied.stage).toBe('ResponseComplete');
    expect(denied.annotations?.['authorization.k8s.io/decision']).toBe('forbid');

    await rbac.createNamespacedRole({
      namespace: NS,
      body: { metadata: { name: 'read-secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: 'read-secrets' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' },
        subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }],
      },
    });
    const afterBinding = await auditLogEnd(info.auditLogPath);
    // The RBAC authorizer works from an informer cache: allow a moment to see the binding.
    await waitUntil(async () => (await statusOf(saCore.listNamespacedSecret({ namespace: NS }, viaProxy))) === 200, {
      timeoutMs: 10_000,
      what: 'the RoleBinding to take effect',
    });
    const allowed = await findEvent(
      afterBinding,
      (e) => e.user.username === `system:serviceaccount:${NS}:${SA}` && e.responseStatus?.code === 200,
    );
    expect(allowed).toMatchObject({ verb: 'list', objectRef: { resource: 'secrets', namespace: NS } });
    expect(allowed.sourceIPs?.[0]).toBe(FORWARDED_FOR);
    expect(allowed.annotations?.['authorization.k8s.io/decision']).toBe('allow');
  }, 60_000);

  it('restarts the API server with a new audit policy and logs at the new level', async () => {
    const policy = join(workDir, 'request-response.yaml');
    await writeFile(
      policy,
      `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: RequestResponse
    resources: [{ group: "", resources: ["configmaps"] }]
  - level: Metadata
`,
    );
    const paths = clusterPaths(workDir, name);
    const oldPid = await readPid(paths.pidsDir, 'kube-apiserver');
    await provider.setAuditPolicy(name, policy);
    const newPid = await readPid(paths.pidsDir, 'kube-apiserver');
    expect(newPid).not.toBe(oldPid);
    expect(processState(newPid ?? -1)).toBe('running');
    expect(oldPid === null ? 'gone' : processState(oldPid)).not.toBe('running');

    const before = await auditLogEnd(info.auditLogPath);
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-swap' }, data: { k: 'v' } } });
    const event = await findEvent(before, (e) => e.verb === 'create' && e.objectRef?.name === 'after-swap');
    expect(event.level).toBe('RequestResponse');
    expect(event.requestObject).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' } });
  }, 90_000);

  it('rejects an invalid policy with the API server message and keeps the old one running', async () => {
    const paths = clusterPaths(workDir, name);
    const previous = await readFile(paths.auditPolicy, 'utf8');
    const invalid = join(workDir, 'invalid.yaml');
    // Passes our structural checks; only kube-apiserver's validation refuses it.
    await writeFile(invalid, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["NotAStage"]\nrules:\n  - level: Metadata\n');

    const err = await provider.setAuditPolicy(name, invalid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditPolicyRejectedError);
    const message = (err as AuditPolicyRejectedError).apiServerMessage;
    expect(message).toMatch(/omitStages/);
    expect(message).toMatch(/NotAStage/);

    expect(await readFile(paths.auditPolicy, 'utf8')).toBe(previous);
    expect((await provider.health(name)).apiServerReady).toBe(true);
    const before = await auditLogEnd(info.auditLogPath);
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-reject' }, data: { k: 'v' } } });
    const event = await findEvent(before, (e) => e.verb === 'create' && e.objectRef?.name === 'after-reject');
    expect(event.level).toBe('RequestResponse');
  }, 120_000);

  it('delete leaves no processes and no files', async () => {
    const paths = clusterPaths(workDir, name);
    const pids = await readPids(paths.pidsDir);
    expect(pids.length).toBeGreaterThanOrEqual(5);
    await provider.delete(name);
    for (const p of [...pids, ...pidsAtStart]) {
      // 'zombie' = exited but not yet reaped by PID 1: holds no resources.
      expect(processState(p.pid), `${p.component} (pid ${p.pid})`).not.toBe('running');
    }
    await expect(readFile(paths.kwokConfig)).rejects.toThrow(/ENOENT/);
    await expect(provider.kubeconfig(name)).rejects.toThrow(/no embedded cluster/);
    expect((await provider.list()).map((c) => c.name)).not.toContain(name);
  }, 90_000);
});
