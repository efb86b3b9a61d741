// The node-escape incident on a REAL kind node: the attacker's exec into the privileged node
// agent, the kubelet's own credential used from the attacker's address (audited as
// system:node:<node>, refused where the Node authorizer refuses), the files left on the node with
// the key's hashes, and the server-side node-evidence collector feeding the node-evidence check.
// Then `irlab test node-escape --provider kind` proves the lab end to end.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readAuditLog } from '../../src/server/cluster/audit-log.ts';
import { kindNodeOf } from '../../src/server/cluster/kind-workloads.ts';
import type { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import type { AuditEvent, ClusterInfo } from '../../src/server/cluster/types.ts';
import { nodeEvidenceCheck } from '../../src/server/lab/checks/node-escape.ts';
import { collectNodeEvidence } from '../../src/server/lab/lab-node-evidence.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { seededKindCluster, type SeededKind } from './seeded-cluster.ts';

const run = promisify(execFile);
let cluster: SeededKind | undefined;
let workspace: string;
let provider: KindProvider;
let info: ClusterInfo;
let key: AnswerKey;
let seconds = 0;

async function events(): Promise<AuditEvent[]> {
  const all: AuditEvent[] = [];
  for await (const event of readAuditLog(info.auditLogPath)) if (event.stage === 'ResponseComplete') all.push(event);
  return all;
}

beforeAll(async () => {
  cluster = await seededKindCluster('kind-esc', 'node-escape', 'kind-escape');
  ({ workspace, provider, info, key, seedSeconds: seconds } = cluster);
}, 600_000);

afterAll(() => cluster?.remove(), 180_000);

describe('node-escape on a real kind node', () => {
  it('seeds within a minute and keys the node', () => {
    console.log(`node-escape seeded in ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThan(60);
    expect(key.node).toMatchObject({ name: `${cluster!.name}-control-plane`, username: `system:node:${cluster!.name}-control-plane`, secretsRead: ['payments/payments-db', 'payments/stripe-api-key'] });
  });

  it('audits the escape and the node credential as the API server saw them', async () => {
    const node = key.node!;
    const [attacker] = node.sourceIPs;
    const all = await events();
    const exec = all.find((e) => e.objectRef?.subresource === 'exec' && e.objectRef.name === key.compromisedPod.name);
    expect(exec).toMatchObject({ user: { username: 'system:serviceaccount:ci:deployer' }, sourceIPs: [attacker, expect.any(String)] });
    expect(exec!.requestURI).toContain('command=nsenter');
    const asNode = all.filter((e) => e.user.username === node.username && e.sourceIPs?.[0] === attacker);
    const secretReads = asNode.filter((e) => e.objectRef?.resource === 'secrets').map((e) => `${e.verb} ${e.objectRef?.name ?? '*'} ${e.responseStatus?.code}`);
    expect(secretReads.sort()).toEqual(['get payments-db 200', 'get recovery-codes 403', 'get stripe-api-key 200', 'list * 403']);
    expect(asNode.every((e) => e.user.groups?.includes('system:nodes'))).toBe(true);
    // The seeder took the credential on the node, never through the API: no exec but the attacker's.
    expect(all.filter((e) => e.objectRef?.subresource === 'exec').map((e) => e.user.username)).toEqual(['system:serviceaccount:ci:deployer']);
  });

  it('left the attacker\'s files on the node with the answer key\'s hashes, the credential copy among them', async () => {
    const node = await kindNodeOf(info);
    const paths = key.node!.files.map((f) => f.path);
    const { stdout } = await run(node.engine.engine, ['exec', node.container, 'sha256sum', ...paths, '/var/lib/kubelet/pki/kubelet-client-current.pem'], { env: node.engine.env, timeout: 30_000 });
    const hashes = new Map(stdout.trim().split('\n').map((line) => line.split(/\s+/).reverse() as [string, string]));
    for (const file of key.node!.files) expect(hashes.get(file.path)).toBe(file.sha256);
    expect(key.node!.files.map((f) => f.sha256)).toContain(hashes.get('/var/lib/kubelet/pki/kubelet-client-current.pem'));
    // The copy has the mode `cp` gives a copy of the kubelet's key: the original's (0600).
    const copy = key.node!.files.find((f) => f.sha256 === hashes.get('/var/lib/kubelet/pki/kubelet-client-current.pem'))!.path;
    const modes = await run(node.engine.engine, ['exec', node.container, 'stat', '-L', '-c', '%a %n', '/var/lib/kubelet/pki/kubelet-client-current.pem', copy], { env: node.engine.env, timeout: 30_000 });
    expect(modes.stdout.trim().split('\n').map((line) => line.split(' ')[0])).toEqual(['600', '600']);
  });

  it('collects node evidence server-side into the workspace, and the node-evidence check reads it', async () => {
    const context = { cluster: info, provider, kubeConfig: loadKubeConfig(info.kubeconfigPath), workspace, answerKey: key, answers: {}, questions: [], auditEvents: async () => [] };
    expect((await nodeEvidenceCheck.run(context, AbortSignal.timeout(60_000))).passed).toBe(false);
    const collect = (collection: string, args: string[] = []) => collectNodeEvidence(info, workspace, { collection, args }, AbortSignal.timeout(60_000));
    const ps = await collect('containers');
    expect(ps).toMatchObject({ file: 'node-evidence/crictl-ps.json', exitCode: 0, truncated: false });
    const listed = JSON.parse(await readFile(join(workspace, ps.file), 'utf8')) as { containers: Array<{ id: string; labels: Record<string, string> }> };
    const escaped = listed.containers.find((c) => c.labels['io.kubernetes.pod.name'] === key.compromisedPod.name)!;
    expect(escaped.id).toBe(key.node!.container.id);
    expect(await collect('container', [escaped.id])).toMatchObject({ exitCode: 0 });
    for (const area of ['tmp', 'dev-shm', 'cron-d', 'systemd-system', 'kubelet-pki']) expect(await collect('files', [area])).toMatchObject({ exitCode: 0 });
    const pki = await readFile(join(workspace, 'node-evidence/files-kubelet-pki.txt'), 'utf8');
    expect(pki).not.toMatch(/BEGIN .*PRIVATE KEY/);
    const result = await nodeEvidenceCheck.run(context, AbortSignal.timeout(60_000));
    expect(result.criteria.filter((c) => !c.passed)).toEqual([]);
    // The compromised container's log, found through the /var/log/pods listing, holds the scenario's lines.
    await collect('pod-logs');
    const dir = `${key.compromisedPod.namespace}_${key.compromisedPod.name}_${key.compromisedPod.uid}`;
    expect(await readFile(join(workspace, 'node-evidence/var-log-pods.txt'), 'utf8')).toContain(`/var/log/pods/${dir}/${key.node!.container.name}`);
    const log = await collect('pod-log', [dir, key.node!.container.name]);
    expect(await readFile(join(workspace, log.file), 'utf8')).toContain('node-monitor 1.4.2 starting');
    // An id of no container on the node: the node's own error, not a server error.
    expect(await collect('container', ['0123456789ab'])).toMatchObject({ exitCode: expect.any(Number), error: expect.any(String) });
  }, 120_000);
});

// `irlab test node-escape --provider kind` is proved with every other lab by kind-labs.test.ts
// (`--all --provider kind`), with the learner's own credential: not run twice in CI's budget.
