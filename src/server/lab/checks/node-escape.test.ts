import { describe, expect, it } from 'vitest';
import type { AnswerKey, NodeKey } from '../../scenarios/answer-key.ts';
import { judgeInvestigation } from './investigation.ts';
import { hostRootSpec, judgeIsolation, judgeNodeEvidence, judgeNodeRevocation } from './node-escape.ts';

const node: NodeKey = {
  name: 'lab-1-control-plane',
  username: 'system:node:lab-1-control-plane',
  files: [
    { path: '/dev/shm/.kcache/kubelet-client.pem', sha256: 'a'.repeat(64), bytes: 2851 },
    { path: '/etc/cron.d/node-health', sha256: 'b'.repeat(64), bytes: 97 },
  ],
  container: { id: 'c'.repeat(64), name: 'monitor' },
  secretsRead: ['payments/payments-db', 'payments/stripe-api-key'],
  sourceIPs: ['198.51.100.7'],
};
const key = { node } as AnswerKey;
const passed = (criteria: Array<{ id: string; passed: boolean }>) => Object.fromEntries(criteria.map((c) => [c.id, c.passed]));
const leaks = (criteria: Array<{ message: string }>) => criteria.some((c) => [node.name, node.container.id, 'a'.repeat(64), '/dev/shm/.kcache', 'payments-db', '198.51.100.7'].some((s) => c.message.includes(s)));

describe('judgeIsolation', () => {
  const base = { found: true, unschedulable: false, blockingTaints: 0, workloadPodsRunning: 1, originalRunning: true };
  it.each([
    ['cordon + NoExecute taint (pod evicted)', { unschedulable: true, blockingTaints: 1, workloadPodsRunning: 0, originalRunning: false }, true, true],
    ['NoExecute taint alone', { blockingTaints: 1, workloadPodsRunning: 0, originalRunning: false }, true, true],
    ['DaemonSet deleted and node cordoned', { unschedulable: true, workloadPodsRunning: 0, originalRunning: false }, true, true],
    ['cordon only', { unschedulable: true }, true, false],
    ['drain --ignore-daemonsets (DaemonSet pod stays)', { unschedulable: true }, true, false],
    ['cordon, pod deleted, DaemonSet made a new one', { unschedulable: true, originalRunning: false }, true, false],
    ['pod deleted, node still schedulable', { workloadPodsRunning: 0, originalRunning: false }, false, true],
    ['Node object deleted', { found: false, workloadPodsRunning: 0, originalRunning: false }, false, true],
  ])('%s', (_name, facts, unschedulable, off) => {
    const verdict = judgeIsolation({ ...base, ...facts });
    expect(passed(verdict)).toEqual({ 'node-unschedulable': unschedulable, 'workload-off-node': off });
    expect(leaks(verdict)).toBe(false);
  });

  it('tells a replaced pod from the original one', () => {
    const [, original] = judgeIsolation({ ...base, unschedulable: true });
    const [, replaced] = judgeIsolation({ ...base, unschedulable: true, originalRunning: false });
    expect(original!.message).toMatch(/still runs/);
    expect(replaced!.message).toMatch(/controller/);
  });
});

describe('judgeNodeEvidence', () => {
  const hashed = new Set(node.files.map((f) => `${f.sha256} ${f.path}`));
  it('passes with every file hashed, the credential directory beside it and the container inspected', () => {
    expect(passed(judgeNodeEvidence({ hashedPaths: hashed, pkiHashes: new Set(['a'.repeat(64)]), inspectedId: node.container.id }, node))).toEqual({ 'node-files': true, 'credential-compared': true, container: true });
  });
  it('fails a listing missing a file or with a wrong hash, another container, no pki listing; without giving the answer', () => {
    const verdict = judgeNodeEvidence({ hashedPaths: new Set([`${'a'.repeat(64)} /dev/shm/.kcache/kubelet-client.pem`, `${'f'.repeat(64)} /etc/cron.d/node-health`]), pkiHashes: new Set(), inspectedId: 'd'.repeat(64) }, node);
    expect(passed(verdict)).toEqual({ 'node-files': false, 'credential-compared': false, container: false });
    expect(leaks(verdict)).toBe(false);
  });
});

describe('judgeNodeRevocation and hostRootSpec', () => {
  it('passes only when the secrets are rotated and nothing can run as host root', () => {
    expect(passed(judgeNodeRevocation({ secretsUnrotated: 0, dangerousControllers: 0, dangerousPods: 0 }))).toEqual({ 'node-secrets-rotated': true, 'privileged-workload-removed': true });
    const left = judgeNodeRevocation({ secretsUnrotated: 1, dangerousControllers: 1, dangerousPods: 0 });
    expect(passed(left)).toEqual({ 'node-secrets-rotated': false, 'privileged-workload-removed': false });
    expect(left[1]!.message).toMatch(/controller/);
  });
  it('knows what gives a pod root on its node', () => {
    expect(hostRootSpec({ containers: [{ name: 'a', securityContext: { privileged: true } }] })).toBe(true);
    expect(hostRootSpec({ hostPID: true, containers: [{ name: 'a' }] })).toBe(true);
    expect(hostRootSpec({ containers: [{ name: 'a' }], volumes: [{ name: 'h', hostPath: { path: '/' } }] })).toBe(true);
    expect(hostRootSpec({ containers: [{ name: 'a' }], volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] })).toBe(false);
    expect(hostRootSpec({ containers: [{ name: 'a', securityContext: { privileged: false } }] })).toBe(false);
  });
});

describe('the node questions', () => {
  const ask = (answers: Record<string, string>) => passed(judgeInvestigation(answers, key, Object.keys(answers)));
  it('grade the node identity, its secrets and its addresses against the key', () => {
    expect(ask({ 'node-identity': node.username, 'node-secrets': 'payments/stripe-api-key, payments/payments-db', 'node-source-ips': '198.51.100.7' })).toEqual({ 'node-identity': true, 'node-secrets': true, 'node-source-ips': true });
    expect(ask({ 'node-identity': 'system:node:other', 'node-secrets': 'payments/payments-db, payments/recovery-codes', 'node-source-ips': '198.51.100.7, 10.0.0.1' })).toEqual({ 'node-identity': false, 'node-secrets': false, 'node-source-ips': false });
    expect(ask({ 'node-secrets': 'payments/*' })).toEqual({ 'node-secrets': false });
  });
  it.each([
    ['Rebuild it from a known image: the attacker had root on the host and copied the kubelet credential', true],
    ['rebuild', false],
    ['Rebuild, because the attacker was root on the host', false],
    ['Clean it: delete the files in /dev/shm and the cron entry, the kubelet certificate is rotated anyway and root was only brief', false],
    ['keep it', false],
  ])('decision "%s"', (answer, right) => {
    expect(ask({ 'node-decision': answer })['node-decision']).toBe(right);
  });
});
