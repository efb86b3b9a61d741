// irlab's audit-policy evaluator and validator against a REAL kube-apiserver: for every policy in
// audit-policy-cases.ts, the level and audit stages the evaluator predicts for each probe must be
// exactly what the API server recorded; every policy the API server refuses, the validator must
// refuse; every policy it accepts, the validator must accept. Also checks that the secret-data
// warnings say what really lands in the log. Needs `irlab engine build` first.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { predict } from '../../src/lib/audit-policy/check.ts';
import { evaluatePolicy } from '../../src/lib/audit-policy/evaluate.ts';
import { CANONICAL_REQUESTS, PROBE_SOURCE_IP } from '../../src/lib/audit-policy/canonical.ts';
import { isLongRunning, requestAttributes } from '../../src/lib/audit-policy/request-info.ts';
import type { AuditStage, RequestAttributes } from '../../src/lib/audit-policy/types.ts';
import { loadPolicy } from '../../src/lib/audit-policy/validate.ts';
import { policyCommand } from '../../src/server/audit-policy/cli.ts';
import { liveCheckAuditPolicy } from '../../src/server/audit-policy/live-check.ts';
import { restartApiServer, swapAuditPolicy } from '../../src/server/cluster/apiserver-restart.ts';
import { auditLogEnd, readAuditLog } from '../../src/server/cluster/audit-log.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { apiServerReady, loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { clusterPaths, Kwokctl } from '../../src/server/cluster/kwokctl.ts';
import { nodeRunner, systemClock, waitUntil } from '../../src/server/cluster/runtime.ts';
import { AuditPolicyRejectedError, type AuditEvent, type ClusterInfo } from '../../src/server/cluster/types.ts';
import { callApi, type Caller } from '../../src/server/scenarios/kube-request.ts';
import { ACCEPTED_POLICIES, DIFFERENTIAL_REQUESTS, REFUSED_POLICIES, SEED_POLICY } from './audit-policy-cases.ts';

let workDir: string;
let provider: EmbeddedProvider;
let info: ClusterInfo;
let admin: Caller;
const name = `pd-${randomBytes(3).toString('hex')}`;
const seen = { levels: new Set<string>(), stages: new Set<string>(), probes: 0 };

async function apply(text: string, file = 'policy.yaml'): Promise<void> {
  const path = join(workDir, file);
  await writeFile(path, text);
  await provider.setAuditPolicy(name, path);
}

/** The events the API server recorded for one request (by its Audit-Id), once its ResponseComplete is written. */
async function eventsOf(auditId: string | undefined, from: number): Promise<AuditEvent[]> {
  let out: AuditEvent[] = [];
  await waitUntil(
    async () => {
      out = [];
      for await (const e of readAuditLog(info.auditLogPath, { fromOffset: from })) if (e.auditID === auditId) out.push(e);
      return out.some((e) => e.stage === 'ResponseComplete');
    },
    { timeoutMs: 10_000, intervalMs: 100, what: `the audit event of ${auditId}` },
  );
  return out;
}

/** Stages the API server emits for a request it audits: ResponseStarted only for long-running ones. */
function stagesFor(request: RequestAttributes): AuditStage[] {
  return isLongRunning(request) ? ['RequestReceived', 'ResponseStarted', 'ResponseComplete'] : ['RequestReceived', 'ResponseComplete'];
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'irlab-policy-'));
  provider = new EmbeddedProvider({ workDir });
  const available = await provider.available();
  if (!available.ok) throw new Error(`embedded provider unavailable: ${available.problems.join('; ')}`);
  info = await provider.create({ name, nodes: 0, timeoutMs: 120_000 });
  admin = { kubeConfig: loadKubeConfig(info.kubeconfigPath), forwardedFor: PROBE_SOURCE_IP };
  // A namespace and a secret to read, so admin probes succeed where the warnings need a body.
  await callApi(admin, { method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: 'production' } } });
  const secret = await callApi(admin, {
    method: 'POST',
    path: '/api/v1/namespaces/production/secrets',
    body: { metadata: { name: 'db-credentials' }, stringData: { password: 'hunter2' } },
  });
  expect(secret.status).toBe(201);
  // Service accounts of other namespaces, for the identity sweep (the scenario's shapes).
  await callApi(admin, { method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: 'ci' } } });
  for (const [ns, sa] of [['production', 'web-app'], ['ci', 'deployer']] as const) {
    expect((await callApi(admin, { method: 'POST', path: `/api/v1/namespaces/${ns}/serviceaccounts`, body: { metadata: { name: sa } } })).status).toBe(201);
  }
}, 180_000);

afterAll(async () => {
  await provider?.delete(name).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
}, 120_000);

describe('the evaluator agrees with kube-apiserver on every probe', () => {
  for (const policy of ACCEPTED_POLICIES) {
    it(policy.name, async () => {
      const loaded = loadPolicy(policy.text);
      expect(loaded.errors).toEqual([]);
      await apply(policy.text);
      const live = await liveCheckAuditPolicy({ cluster: info, provider, policyText: policy.text, requests: DIFFERENTIAL_REQUESTS });
      expect(live.identities.serviceAccount.user).toBe('system:serviceaccount:default:default');

      const mismatches: string[] = [];
      for (const probe of live.probes) {
        expect(probe.auditId, probe.request.id).toBeTruthy();
        const { attributes, decision } = predict(loaded.policy!, probe.request, live.identities);
        const expected = decision.level === 'None' ? [] : stagesFor(attributes).filter((s) => !decision.omitStages.includes(s));
        const levelOk = expected.length === 0 || probe.level === decision.level;
        if (!levelOk || expected.join() !== probe.stages.join()) {
          mismatches.push(
            `${probe.request.id} (HTTP ${probe.status}): predicted ${decision.level} [${expected.join()}] by rule ${decision.rule}, recorded ${probe.level} [${probe.stages.join()}]`,
          );
        }
        seen.levels.add(probe.level);
        for (const s of probe.stages) seen.stages.add(s);
        seen.probes++;
      }
      // The sweep's probes, as other service accounts, are held to the evaluator too.
      expect(live.sweep.length).toBeGreaterThan(0);
      for (const probe of live.sweep) {
        const attributes = requestAttributes({ method: probe.request.method, path: probe.request.path }, probe.identity);
        const predicted = evaluatePolicy(loaded.policy!, attributes);
        // A level whose every stage is omitted leaves no event, as in the table above.
        const recordsSomething = predicted.level !== 'None' && stagesFor(attributes).some((st) => !predicted.omitStages.includes(st));
        if ((recordsSomething ? predicted.level : 'None') !== probe.level) mismatches.push(`${probe.request.id} as ${probe.identity.user}: predicted ${predicted.level}, recorded ${probe.level}`);
      }
      expect(mismatches).toEqual([]);
      expect(live.disagreements).toEqual([]);
    }, 90_000);
  }

  it('covered every level and every non-panic stage', () => {
    expect([...seen.levels].sort()).toEqual(['Metadata', 'None', 'Request', 'RequestResponse']);
    expect([...seen.stages].sort()).toEqual(['RequestReceived', 'ResponseComplete', 'ResponseStarted']);
    expect(seen.probes).toBe(ACCEPTED_POLICIES.length * DIFFERENTIAL_REQUESTS.length);
  });

  it('omitManagedFields: a rule overrides the policy default', async () => {
    const text = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
omitManagedFields: true
rules:
  - level: RequestResponse
    resources: [{ group: "rbac.authorization.k8s.io", resources: ["clusterroles"] }]
    omitManagedFields: false
  - level: RequestResponse
`;
    await apply(text);
    const policy = loadPolicy(text).policy!;
    for (const id of ['create-clusterrole', 'create-role']) {
      const request = CANONICAL_REQUESTS.find((r) => r.id === id)!;
      const from = await auditLogEnd(info.auditLogPath);
      const response = await callApi(admin, { method: request.method, path: request.path.split('?')[0]!, query: [['dryRun', 'All']], body: request.body });
      expect(response.status, id).toBe(201);
      const [event] = await eventsOf(response.auditId, from);
      const recorded = (event?.responseObject as { metadata?: { managedFields?: unknown } } | undefined)?.metadata;
      const predicted = predict(policy, request, { admin: { user: 'kwok-admin', groups: ['system:masters', 'system:authenticated'] }, serviceAccount: { user: '', groups: [] } });
      expect(recorded, id).toBeDefined();
      expect(recorded?.managedFields === undefined, id).toBe(predicted.decision.omitManagedFields);
    }
  }, 60_000);
});

describe('what the secret-data warning claims is what the log holds', () => {
  it('at Request a write logs the secret in its body; a get logs no data', async () => {
    await apply(SEED_POLICY);
    let from = await auditLogEnd(info.auditLogPath);
    const create = await callApi(admin, {
      method: 'POST',
      path: '/api/v1/namespaces/production/secrets',
      query: [['dryRun', 'All']],
      body: { metadata: { name: 'probe-secret' }, stringData: { password: 's3cret' } },
    });
    const [created] = await eventsOf(create.auditId, from);
    expect(created?.level).toBe('Request');
    // The body as decoded: stringData arrives as base64 data.
    expect((created?.requestObject as { data?: Record<string, string> }).data?.['password']).toBe(Buffer.from('s3cret').toString('base64'));
    expect(created?.responseObject).toBeUndefined();

    from = await auditLogEnd(info.auditLogPath);
    const get = await callApi(admin, { method: 'GET', path: '/api/v1/namespaces/production/secrets/db-credentials' });
    expect(get.status).toBe(200);
    const [read] = await eventsOf(get.auditId, from);
    expect(read?.level).toBe('Request');
    expect(read?.requestObject).toBeUndefined();
    expect(read?.responseObject).toBeUndefined();
  }, 60_000);

  it('at RequestResponse a get logs the secret and a TokenRequest logs the token', async () => {
    await apply('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: RequestResponse\n');
    let from = await auditLogEnd(info.auditLogPath);
    const get = await callApi(admin, { method: 'GET', path: '/api/v1/namespaces/production/secrets/db-credentials' });
    const [read] = await eventsOf(get.auditId, from);
    expect((read?.responseObject as { data?: Record<string, string> }).data?.['password']).toBe(Buffer.from('hunter2').toString('base64'));

    from = await auditLogEnd(info.auditLogPath);
    const token = await callApi(admin, {
      method: 'POST',
      path: '/api/v1/namespaces/default/serviceaccounts/default/token',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
    });
    const issued = (token.body as { status: { token: string } }).status.token;
    const [minted] = await eventsOf(token.auditId, from);
    expect((minted?.responseObject as { status?: { token?: string } }).status?.token).toBe(issued);
  }, 60_000);
});

describe('the validator refuses what kube-apiserver refuses', () => {
  it('accepts every policy the API server accepted above', () => {
    for (const policy of ACCEPTED_POLICIES) expect(loadPolicy(policy.text).policy, policy.name).toBeDefined();
  });

  it('refuses each policy the API server refuses, naming the same field', async () => {
    // Straight to the restart machinery: provider.setAuditPolicy's own pre-check would stop the
    // structurally broken ones before the API server sees them. After each refusal the API server
    // stays down; the last step brings it back on a good policy.
    const paths = clusterPaths(workDir, name);
    const kwokctl = new Kwokctl({ runner: nodeRunner, binDir: provider.binDir, workDir, env: process.env });
    const kc = loadKubeConfig(info.kubeconfigPath);
    const ctx = { name, paths, kwokctl, clock: systemClock, ready: () => apiServerReady(kc), signalProcess: (pid: number, s: NodeJS.Signals) => process.kill(pid, s), readyTimeoutMs: 60_000 };
    const report: string[] = [];
    for (const policy of REFUSED_POLICIES) {
      const ours = loadPolicy(policy.text);
      await writeFile(paths.auditPolicy, policy.text);
      const outcome = await restartApiServer(ctx);
      const theirs = outcome.ok ? 'ACCEPTED' : outcome.message.replace(/\s+/g, ' ').replace(/: from file \S+/, '').slice(0, 400);
      report.push(`${policy.name}: apiserver: ${theirs} | irlab: ${ours.errors.map((e) => `${e.path}: ${e.message}`).join('; ') || 'ACCEPTED'}`);
      expect(outcome.ok, `${policy.name}: kube-apiserver accepted it`).toBe(false);
      expect(ours.policy, `${policy.name}: irlab accepted it`).toBeUndefined();
      expect(ours.errors.map((e) => e.path), policy.name).toContain(policy.path);
    }
    console.log(`refusals, kube-apiserver vs irlab:\n  ${report.join('\n  ')}`);
    await swapAuditPolicy(ctx, SEED_POLICY);
    expect(await apiServerReady(kc)).toBe(true);
  }, 300_000);

  it('setAuditPolicy reports the API server message for a refused policy', async () => {
    const err = await apply('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    nonResourceURLs: ["healthz"]\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditPolicyRejectedError);
    expect((err as AuditPolicyRejectedError).apiServerMessage).toMatch(/nonResourceURLs/);
    expect(loadPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    nonResourceURLs: ["healthz"]\n').errors[0]?.path).toBe('rules[0].nonResourceURLs[0]');
  }, 60_000);
});

describe('irlab policy live', () => {
  it('applies a policy, replays the table and grades what the API server recorded', async () => {
    const file = join(workDir, 'weak.yaml');
    await writeFile(file, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    verbs: ["watch"]\n  - level: Metadata\n');
    const out: string[] = [];
    const err: string[] = [];
    const code = await policyCommand(['live', name, file], { out: (t) => out.push(t), err: (t) => err.push(t), providers: () => [provider] });
    const text = out.join('\n');
    expect(err.join('\n')).toMatch(/applying .*weak\.yaml/);
    expect(code).toBe(1);
    expect(text).toMatch(/^get secrets\/db-credentials in production\s+SA\s+Metadata\s+>= Metadata\s+ok\s+rules\[1\] \(line 6\)\s+RequestReceived,ResponseComplete$/m);
    expect(text).toMatch(/^watch secrets in production\s+SA\s+None\s+>= Metadata\s+FAIL\s+rules\[0\] \(line 4\)\s+none$/m);
    expect(text).toContain(
      'FAIL secrets-audited: 1 of 8 secrets requests needs at least Metadata: watch secrets in production (as system:serviceaccount:default:default) ' +
        'left no audit event: level None, from rules[0] (line 4: level: None, verbs: ["watch"])',
    );
    expect(text).toMatch(/^FAIL request-received-omitted: \d+ of \d+ requests were recorded with a RequestReceived event/m);
    expect(text).toMatch(/^ok {3}nodes-namespaces-at-metadata: all 7 node and namespace requests were recorded at Metadata or above/m);
  }, 60_000);
});

describe('the identity sweep on the real API server', () => {
  const lessonRules = SEED_POLICY.slice(SEED_POLICY.indexOf('rules:\n') + 'rules:\n'.length);
  const head = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n';

  it('level None for the web-app service account before the lesson rules: its probes leave no event, and the check fails', async () => {
    const text = `${head}  - level: None\n    users: ["system:serviceaccount:production:web-app"]\n${lessonRules}`;
    await apply(text);
    const live = await liveCheckAuditPolicy({ cluster: info, provider, policyText: text });
    const webApp = live.sweep.filter((p) => p.identity.user === 'system:serviceaccount:production:web-app');
    expect(webApp.length).toBeGreaterThanOrEqual(4);
    expect(webApp.every((p) => p.level === 'None')).toBe(true);
    // default/default alone (what the old check probed as) is recorded: only the sweep sees the gap.
    expect(live.probes.filter((p) => p.request.minimum).every((p) => p.level !== 'None')).toBe(true);
    const identities = live.result.criteria.find((c) => c.id === 'every-identity-audited')!;
    expect(live.result.passed).toBe(false);
    expect(identities.passed).toBe(false);
    expect(identities.message).toMatch(/^a rule blinds the log to some identities .*made by some service accounts, left no audit event by rules\[0\]/);
    expect(identities.message).not.toMatch(/ci:deployer/);
  }, 90_000);

  it('the lesson policy with secrets at Metadata and noise exempted passes', async () => {
    const text = `${head}  - level: None\n    users: ["system:kube-proxy"]\n    verbs: ["watch"]\n    resources: [{ group: "", resources: ["endpoints", "services"] }]\n  - level: None\n    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]\n${lessonRules.replace('level: Request\n    resources:\n      - group: ""\n        resources: ["secrets"]', 'level: Metadata\n    resources:\n      - group: ""\n        resources: ["secrets"]')}`;
    expect(text).toContain('level: Metadata\n    resources:\n      - group: ""\n        resources: ["secrets"]');
    await apply(text);
    const live = await liveCheckAuditPolicy({ cluster: info, provider, policyText: text });
    expect(live.sweep.some((p) => p.identity.user === 'system:serviceaccount:ci:deployer')).toBe(true);
    expect(live.result.criteria.filter((c) => !c.passed)).toEqual([]);
  }, 90_000);
});
