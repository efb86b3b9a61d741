import { describe, expect, it } from 'vitest';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { sha256 } from '../workspace-files.ts';
import { goodImages, judgeEradication } from './eradication.ts';
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
    legacyTokensLive: [false], boundTokensLive: [false], secretsUnrotated: 0, secretsRemoved: 0, brokenConsumers: [], rightsLeft: [], rbacLeft: 0, workloadsLeft: 0,
    workload: { name: 'web-app', images: ['registry.shop.internal/web-app:2.14.2'], podImages: ['registry.shop.internal/web-app:2.14.2'] },
    compromisedPodsLeft: 0, needsBlocked: [], reachesUnneeded: [],
  };
  const digest = `sha256:${'a'.repeat(64)}`;
  const withDigest = { ...key, compromisedPod: { ...key.compromisedPod, knownGoodDigest: digest } } as AnswerKey;
  it('passes a clean cluster', () => {
    expect(judgeEradication(clean, key).filter((c) => !c.passed)).toEqual([]);
  });
  it('accepts the known-good image by digest, with or without its tag', () => {
    for (const image of [`registry.shop.internal/web-app@${digest}`, `registry.shop.internal/web-app:2.14.2@${digest}`]) {
      const verdict = judgeEradication({ ...clean, workload: { ...clean.workload, images: [image], podImages: [image] } }, withDigest);
      expect(verdict.find((c) => c.id === 'known-good-image')?.passed).toBe(true);
    }
    expect(goodImages(withDigest)).not.toContain(`registry.shop.internal/web-app@sha256:${'b'.repeat(64)}`);
  });
  it('fails each criterion without naming the attacker\'s objects or counting', () => {
    const dirty = judgeEradication(
      {
        ...clean, legacyTokensLive: [true], boundTokensLive: [true], secretsUnrotated: 2, brokenConsumers: ['deployment payments/payments-api needs secret payments-db'],
        rightsLeft: ['create pods in kube-system'], rbacLeft: 1, workloadsLeft: 1, compromisedPodsLeft: 1, needsBlocked: ['its database (payments, TCP 5432)'], reachesUnneeded: [],
      },
      key,
    );
    expect(dirty.filter((c) => !c.passed).map((c) => c.id)).toEqual([
      'legacy-token-revoked', 'pod-tokens-revoked', 'secrets-rotated', 'consumers-work', 'rights-revoked', 'rbac-persistence-removed', 'workload-persistence-removed', 'known-good-image', 'egress-limited',
    ]);
    const text = dirty.map((c) => c.message).join('\n');
    for (const leak of ['backup-operator', 'node-cache', 'deployer', ' 2 ', 'web-app-7d9']) expect(text).not.toContain(leak);
  });
});
