import { describe, expect, it } from 'vitest';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { sha256 } from '../workspace-files.ts';
import { judgeEradication } from './eradication.ts';
import { judgeQuarantine } from './quarantine.ts';

const key = {
  compromisedPod: {
    name: 'web-app-7d9-abcde', namespace: 'production', uid: 'uid-1', ip: '10.0.0.3', serviceAccount: 'web-app', containers: ['web'],
    images: ['registry.shop.internal/web-app:2.14.1'], labels: { app: 'web-app', 'pod-template-hash': '7d9' }, knownGoodImage: 'registry.shop.internal/web-app:2.14.2',
  },
  attacker: { usernames: [], sourceIPs: ['10.0.0.3', '203.0.113.58'], userAgents: [] },
  secretsRead: ['production/*', 'ci/*', 'ci/deployer-token', 'payments/payments-db'],
  bindingsCreated: [{ name: 'backup-operator', role: 'cluster-admin', subjects: [] }],
  execs: [{ namespace: 'production', pod: 'payments-frontend-x', command: ['sh', '-c', 'cat /etc/payments/config.yaml'] }],
  podsCreated: [{ namespace: 'kube-system', name: 'node-cache-17z5e', images: [] }],
  firstMaliciousAt: '2026-11-27T18:49:32.255383Z',
  files: [{ path: '/tmp/crontab', sha256: sha256('* * * * * x\n'), bytes: 12 }, { path: '/etc/hostname', sha256: 'x', bytes: 1 }],
  reachableSecrets: [{ namespace: 'payments', name: 'payments-db', uid: 's1', sha256: 'old' }],
} as unknown as AnswerKey;

describe('quarantine', () => {
  const deny = { metadata: { name: 'quarantine' }, spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Ingress', 'Egress'] } };
  it('passes the lesson containment', () => {
    expect(judgeQuarantine({ pod: { name: 'p', labels: { quarantine: 'true' } }, policies: [deny] }).every((c) => c.passed)).toBe(true);
  });
  it('explains a policy that selects a different label', () => {
    const wrong = { metadata: { name: 'quarantine' }, spec: { podSelector: { matchLabels: { isolated: 'true' } }, policyTypes: ['Ingress', 'Egress'] } };
    const isolated = judgeQuarantine({ pod: { name: 'p', labels: { quarantine: 'true' } }, policies: [wrong] }).find((c) => c.id === 'isolated');
    expect(isolated?.passed).toBe(false);
    expect(isolated?.message).toContain('"quarantine" does not apply: it selects pods with isolated=true');
  });
  it('explains a policy that still allows DNS egress', () => {
    const dns = { ...deny, spec: { ...deny.spec, egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] } };
    const isolated = judgeQuarantine({ pod: { name: 'p', labels: { quarantine: 'true' } }, policies: [dns] }).find((c) => c.id === 'isolated');
    expect(isolated?.message).toContain('still allows egress to anything on UDP 53 (policy quarantine)');
  });
  it('fails a deleted pod: containment is not deletion', () => {
    const criteria = judgeQuarantine({ policies: [deny] });
    expect(criteria.find((c) => c.id === 'pod-kept')?.message).toContain('keeps the pod for evidence');
  });
});

describe('eradication', () => {
  const clean = {
    secrets: new Map([['payments/payments-db', { uid: 's1', sha256: 'new' }]]),
    stillAllowed: [],
    bindingsLeft: [],
    podsLeft: [],
    workload: { name: 'web-app', images: ['registry.shop.internal/web-app:2.14.2'], podImages: ['registry.shop.internal/web-app:2.14.2'], podLabels: { app: 'web-app' } },
    policies: [{ metadata: { name: 'egress' }, spec: { podSelector: { matchLabels: { app: 'web-app' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 5432 }] }] } }],
  };
  it('passes a clean cluster', () => {
    expect(judgeEradication(clean, key).filter((c) => !c.passed)).toEqual([]);
  });
  it('names each thing left to do', () => {
    const dirty = judgeEradication(
      { ...clean, secrets: new Map([['payments/payments-db', { uid: 's1', sha256: 'old' }]]), stillAllowed: ['get secrets in payments'], bindingsLeft: ['backup-operator'], workload: { ...clean.workload, podImages: ['registry.shop.internal/web-app:2.14.1'] }, policies: [] },
      key,
    );
    expect(dirty.filter((c) => !c.passed).map((c) => c.id)).toEqual(['secrets-rotated', 'sa-revoked', 'binding-removed', 'known-good-image', 'egress-limited']);
    expect(dirty.find((c) => c.id === 'secrets-rotated')?.message).toContain('payments/payments-db');
  });
  it('counts a deleted secret as rotated, an allow-all egress policy as open', () => {
    const open = { metadata: { name: 'all' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } };
    const result = judgeEradication({ ...clean, secrets: new Map([['payments/payments-db', undefined]]), policies: [open] }, key);
    expect(result.find((c) => c.id === 'secrets-rotated')?.passed).toBe(true);
    expect(result.find((c) => c.id === 'egress-limited')?.passed).toBe(false);
  });
});
