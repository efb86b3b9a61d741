import { describe, expect, it } from 'vitest';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { AuditEvent } from '../../cluster/types.ts';
import { INVESTIGATION_QUESTIONS, judgeInvestigation, observedIPs } from './investigation.ts';

const key = {
  compromisedPod: { name: 'web-app-7d9-abcde', namespace: 'production', uid: 'uid-1', ip: '10.0.0.3', serviceAccount: 'web-app', containers: ['web'], images: ['registry.shop.internal/web-app:2.14.1'], labels: {} },
  attacker: { usernames: ['system:serviceaccount:production:web-app', 'system:serviceaccount:ci:deployer'], sourceIPs: ['10.0.0.3', '203.0.113.58'], userAgents: [] },
  secretsRead: ['production/*', 'staging/*', 'ci/deployer-token', 'payments/payments-db'],
  bindingsCreated: [{ name: 'backup-operator', role: 'cluster-admin', subjects: [] }],
  execs: [{ namespace: 'production', pod: 'payments-frontend-x', command: ['sh', '-c', 'cat /etc/payments/config.yaml'] }],
  firstMaliciousAt: '2026-11-27T18:49:32.255383Z',
  steps: [{ auditId: 'a1' }, { auditId: 'a2' }],
  reachableSecrets: [
    { namespace: 'production', name: 'web-app-config', uid: 'u1', sha256: 'x' },
    { namespace: 'production', name: 'tls-cert', uid: 'u2', sha256: 'x' },
    { namespace: 'staging', name: 'staging-db', uid: 'u3', sha256: 'x' },
    { namespace: 'ci', name: 'deployer-token', uid: 'u4', sha256: 'x' },
    { namespace: 'payments', name: 'payments-db', uid: 'u5', sha256: 'x' },
    { namespace: 'payments', name: 'stripe-api-key', uid: 'u6', sha256: 'x' },
  ],
} as unknown as AnswerKey;

const facts = { observedIPs: ['127.0.0.1'] };
const right = {
  identity: 'production/web-app',
  secrets: 'payments/payments-db, ci/deployer-token',
  binding: 'backup-operator → cluster-admin',
  'exec-command': 'sh -c "cat /etc/payments/config.yaml"',
  'source-ips': '203.0.113.58 10.0.0.3',
  'first-request': '2026-11-27T18:49:33Z',
};
// The node questions (an incident that reached its node) have their own test: investigation-node.test.ts.
const QUESTIONS = INVESTIGATION_QUESTIONS.filter((id) => !id.startsWith('node-'));
const judge = (answers: Partial<typeof right>) => judgeInvestigation({ ...right, ...answers }, key, QUESTIONS, facts);
const verdict = (id: keyof typeof right, answer: string) => judge({ [id]: answer }).find((c) => c.id === id)!;

/** Every string of the answer key a wrong answer's feedback must not give away. */
const secretsOfKey = [
  'web-app-7d9-abcde', 'uid-1', '10.0.0.3', '203.0.113.58', '127.0.0.1', 'web-app-config', 'tls-cert', 'staging-db', 'deployer-token', 'payments-db', 'stripe-api-key',
  'backup-operator', 'cluster-admin', 'cat /etc/payments/config.yaml', '/etc/payments', '2026-11-27T18:49', 'payments-frontend-x', 'system:serviceaccount:production:web-app', 'ci:deployer',
];
function expectNoLeak(message: string) {
  for (const value of secretsOfKey) expect(message, `feedback gives away ${value}`).not.toContain(value);
  expect(message).not.toMatch(/\d+ (?:of|missing|secret|address|s off)|\bs off\b|earlier|later|too (?:early|late)/);
}

describe('investigation: correct answers in every form pass', () => {
  it('accepts the reference answers', () => {
    expect(judge({}).filter((c) => !c.passed)).toEqual([]);
  });
  it.each([
    ['secrets', 'payments/payments-db ci/deployer-token'],
    ['secrets', 'secret/ci/deployer-token; "payments/payments-db"'],
    ['secrets', '/api/v1/namespaces/ci/secrets/deployer-token, /api/v1/namespaces/payments/secrets/payments-db'],
    // A list is a read of every secret it returns: the full set read is right too.
    ['secrets', 'production/web-app-config, production/tls-cert, staging/staging-db, ci/deployer-token, payments/payments-db'],
    ['secrets', 'production/*, staging/*, ci/deployer-token, payments/payments-db'],
    ['binding', 'backup-operator -> cluster-admin'],
    ['binding', 'clusterrolebinding/backup-operator → ClusterRole/cluster-admin'],
    ['binding', 'backup-operator (cluster-admin)'],
    ['binding', 'cluster-admin, backup-operator'],
    ['exec-command', 'cat /etc/payments/config.yaml'],
    ['exec-command', "sh -c 'cat /etc/payments/config.yaml'"],
    ['exec-command', '["sh","-c","cat /etc/payments/config.yaml"]'],
    ['exec-command', '/api/v1/namespaces/production/pods/payments-frontend-x/exec?command=sh&command=-c&command=cat+%2Fetc%2Fpayments%2Fconfig.yaml&container=app'],
    ['exec-command', 'kubectl exec -n production payments-frontend-x -- sh -c "cat /etc/payments/config.yaml"'],
    ['source-ips', '10.0.0.3, 203.0.113.58'],
    // The server-observed address (the last sourceIPs entry) is a correct reading too.
    ['source-ips', '127.0.0.1'],
    ['source-ips', '10.0.0.3, 203.0.113.58, 127.0.0.1'],
    ['identity', 'system:serviceaccount:production:web-app'],
    ['first-request', '2026-11-27T18:49:32.255383Z'],
  ] as const)('%s: %s', (id, answer) => {
    expect(verdict(id, answer)).toMatchObject({ passed: true });
  });
  it('explains which sourceIPs entry is which, once answered', () => {
    for (const answer of ['10.0.0.3, 203.0.113.58', '127.0.0.1']) {
      const message = verdict('source-ips', answer).message;
      expect(message).toContain('X-Forwarded-For');
      expect(message).toContain('127.0.0.1');
      expect(message).toMatch(/can forge/);
    }
  });
});

describe('investigation: wrong answers fail, name the criterion, and give nothing away', () => {
  it.each([
    // Padding with candidates (issue 16).
    ['exec-command', 'no idea, maybe env or id or whoami'],
    ['exec-command', 'cat /etc/payments/config.yaml or env'],
    ['exec-command', 'env'],
    ['binding', 'backup-operator, system-metrics-reader, node-problem-detector-ext, cluster-autoscaler-status, sre-view, cluster-admin'],
    ['binding', 'backup-operator'],
    ['binding', 'system-metrics-reader → cluster-admin'],
    ['binding', 'backup-operator → view'],
    ['secrets', 'payments/payments-db, payments/stripe-api-key'],
    ['secrets', 'payments/payments-db'],
    ['secrets', 'payments/payments-db, ci/deployer-token, payments/stripe-api-key'],
    // Every reachable secret, though one namespace was never listed: not what the attacker read.
    ['secrets', 'production/*, staging/*, ci/*, payments/*'],
    ['secrets', 'payments-db, deployer-token'],
    ['source-ips', '203.0.113.58'],
    ['source-ips', '10.0.0.3, 203.0.113.58, 10.10.8.4'],
    ['source-ips', 'the pod and the internet'],
    ['identity', 'system:serviceaccount:ci:deployer'],
    ['identity', 'production/web-app or ci/deployer'],
    ['first-request', '2026-11-27T18:40:00Z'],
    ['first-request', '2026-11-27T18:49:40Z'],
    ['first-request', 'yesterday'],
  ] as const)('%s: %s', (id, answer) => {
    const c = verdict(id, answer);
    expect(c).toMatchObject({ id, passed: false });
    expect(c.message.length).toBeGreaterThan(10);
    expectNoLeak(c.message);
  });
  it('says the same thing however far off a time is (no distance, no direction)', () => {
    const messages = new Set(['2026-11-27T18:40:00Z', '2026-11-27T18:49:40Z', '2026-11-28T00:00:00Z', '2026-01-01T00:00:00Z'].map((t) => verdict('first-request', t).message));
    expect(messages.size).toBe(1);
  });
  it('says the same thing whichever wrong set of secrets or addresses is given (no counts)', () => {
    const secrets = new Set(['payments/payments-db', 'payments/stripe-api-key', 'a/b, c/d, e/f'].map((s) => verdict('secrets', s).message));
    expect(secrets.size).toBe(1);
    const ips = new Set(['203.0.113.58', '10.1.1.1', '10.1.1.1, 10.1.1.2, 10.0.0.3'].map((s) => verdict('source-ips', s).message));
    expect(ips.size).toBe(1);
  });
  it('grades only the questions asked, and unanswered ones as such', () => {
    expect(judgeInvestigation({}, key, ['identity'])).toEqual([{ id: 'identity', passed: false, message: 'not answered yet' }]);
  });
});

describe('observedIPs', () => {
  it('takes the last sourceIPs entry of each attacker event', () => {
    const event = (auditID: string, sourceIPs: string[]) => ({ auditID, sourceIPs }) as AuditEvent;
    expect(observedIPs(key, [event('a1', ['10.0.0.3', '127.0.0.1']), event('a2', ['203.0.113.58', '127.0.0.1']), event('b', ['10.9.9.9'])])).toEqual(['127.0.0.1']);
  });
});
