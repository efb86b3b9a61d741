// The compromised-web-app scenario on REAL embedded clusters: two learners, two seeds, two
// audit logs written by the real kube-apiserver, each telling the whole story with its own IOCs.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/server/cluster/audit-log.ts';
import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import type { AuditEvent, ClusterInfo } from '../../src/server/cluster/types.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { loadScenario } from '../../src/server/scenarios/load.ts';
import { podDir } from '../../src/server/scenarios/pod-evidence.ts';
import { seedScenario, type SeedResult } from '../../src/server/scenarios/seed.ts';
import { scenarioTimeScale, type StepOutcome } from '../../src/server/scenarios/timeline.ts';
import { SEEDER_AGENT } from '../../src/server/scenarios/world.ts';
import { durationMs } from '../../src/schemas/scenario.ts';

interface Seeded {
  cluster: ClusterInfo;
  result: SeedResult;
  key: AnswerKey;
  events: AuditEvent[];
}

let work: string;
let provider: EmbeddedProvider;
const seeded: Seeded[] = [];
const SEEDS = ['alpha', 'bravo'];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-scenario-it-'));
  provider = new EmbeddedProvider({ workDir: path.join(work, 'kwok') });
  const { loaded, problems } = await loadScenario(process.cwd(), 'scenarios/compromised-web-app');
  if (!loaded) throw new Error(JSON.stringify(problems));
  for (const seed of SEEDS) {
    const cluster = await provider.create({ name: `sc-${seed}-${randomBytes(2).toString('hex')}` });
    const result = await seedScenario(cluster, loaded, { seed, answerKeys: path.join(work, 'keys') });
    const events: AuditEvent[] = [];
    for await (const event of readAuditLog(cluster.auditLogPath)) if (event.stage === 'ResponseComplete') events.push(event);
    seeded.push({ cluster, result, key: result.answerKey, events });
  }
}, 240_000);

afterAll(async () => {
  for (const { cluster } of seeded) await provider.delete(cluster.name).catch(() => {});
  await rm(work, { recursive: true, force: true });
}, 120_000);

const byAttacker = (s: Seeded) => s.events.filter((e) => s.key.attacker.sourceIPs.includes(e.sourceIPs?.[0] ?? ''));

describe.each(SEEDS.map((seed, i) => [seed, i] as const))('seed %s', (_seed, i) => {
  const s = () => seeded[i]!;

  it('shows secret enumeration across namespaces by the compromised service account', () => {
    const reads = byAttacker(s()).filter(
      (e) => e.objectRef?.resource === 'secrets' && ['list', 'get'].includes(e.verb) && e.user.username === 'system:serviceaccount:production:web-app',
    );
    expect(new Set(reads.map((e) => e.objectRef?.namespace)).size).toBeGreaterThanOrEqual(4);
    expect(reads.every((e) => e.sourceIPs?.[0] === s().key.compromisedPod.ip)).toBe(true);
    // The token was bound to the compromised pod, so the audit log names it.
    expect(reads[0]?.user.extra?.['authentication.kubernetes.io/pod-name']).toEqual([s().key.compromisedPod.name]);
  });

  it('shows token theft: the legacy token secret read, then used from outside', () => {
    const theft = byAttacker(s()).find((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets' && e.objectRef.name === 'deployer-token');
    expect(theft?.responseStatus?.code).toBe(200);
    const outside = s().key.params.outsideIp as string;
    const used = s().events.filter((e) => e.user.username === 'system:serviceaccount:ci:deployer' && e.sourceIPs?.[0] === outside);
    expect(used.length).toBeGreaterThan(0);
    expect(used.every((e) => e.requestReceivedTimestamp! > theft!.requestReceivedTimestamp!)).toBe(true);
  });

  it('shows RBAC escalation: a ClusterRoleBinding to cluster-admin created with the stolen token', () => {
    const attempts = byAttacker(s()).filter((e) => e.verb === 'create' && e.objectRef?.resource === 'clusterrolebindings');
    const binding = attempts.find((e) => e.responseStatus?.code === 201);
    expect(binding?.user.username).toBe('system:serviceaccount:ci:deployer');
    // First with the pod's own token, refused twice, before the stolen token did it.
    const refused = attempts.filter((e) => e.responseStatus?.code === 403);
    expect(refused.map((e) => e.user.username)).toEqual(['system:serviceaccount:production:web-app', 'system:serviceaccount:production:web-app']);
    expect(refused.every((e) => e.requestReceivedTimestamp! < binding!.requestReceivedTimestamp!)).toBe(true);
    expect(s().key.bindingsCreated).toEqual([{ name: s().key.params.bindingName, role: 'cluster-admin', subjects: ['system:serviceaccount:production:web-app'] }]);
  });

  it('keeps the stolen legacy token in the answer key, the very token the attacker used', async () => {
    const [credential, ...others] = s().key.tokenCredentials ?? [];
    expect(others).toEqual([]);
    expect(credential).toMatchObject({ secret: 'ci/deployer-token', username: 'system:serviceaccount:ci:deployer' });
    const planted = await readFile(path.join(podDir(s().cluster.dir, s().key.compromisedPod.namespace, s().key.compromisedPod.name).rootfs, 'tmp/ci.token'), 'utf8');
    expect(planted.trim()).toBe(credential!.token);
  });

  it('shows pod exec abuse in production and a pod created in kube-system by a non-admin', () => {
    const exec = byAttacker(s()).find((e) => e.objectRef?.subresource === 'exec');
    expect(exec).toMatchObject({ verb: 'create', objectRef: { resource: 'pods', namespace: 'production' } });
    expect(new URL(`https://x${exec!.requestURI}`).searchParams.getAll('command')).toEqual(['sh', '-c', s().key.params.execCommand]);
    const escape = byAttacker(s()).find((e) => e.verb === 'create' && e.objectRef?.resource === 'pods' && e.objectRef.namespace === 'kube-system');
    expect(escape?.responseStatus?.code).toBe(201);
    expect(escape?.user.username).toBe('system:serviceaccount:production:web-app');
  });

  it('has an answer key that matches the audit log', () => {
    const { key, events } = s();
    const ids = new Map(events.map((e) => [e.auditID, e]));
    for (const step of key.steps) {
      const event = ids.get(step.auditId);
      expect(event, `step ${step.index}`).toBeDefined();
      expect(event).toMatchObject({ verb: step.verb, user: { username: step.username }, userAgent: step.userAgent });
      // Discovery documents (/api, /apis) are non-resource requests: no objectRef.
      expect(event?.objectRef?.resource ?? '', `step ${step.index}`).toBe(step.resource);
    }
    const first = byAttacker(s()).map((e) => e.requestReceivedTimestamp!).sort()[0];
    expect(key.firstMaliciousAt).toBe(first);
    expect(new Set(key.steps.flatMap((step) => (step.signal ? [step.signal] : [])))).toEqual(new Set(['secret-enumeration', 'token-theft', 'rbac-escalation', 'pod-exec', 'namespace-escape']));
  });

  it("lists as the attacker's objects only what the API server stored: the binding and the pod, never a review", async () => {
    for (const { cluster, key } of seeded) {
      const created = key.scope?.created ?? [];
      expect(created.map((o) => o.kind).sort()).toEqual(['ClusterRoleBinding', 'Pod']);
      const kubeconfig = cluster.kubeconfigPath;
      for (const o of created) {
        const found = await promisify(execFile)(path.join(binDir(readEngineVersions()), 'kubectl'), ['--kubeconfig', kubeconfig, 'get', o.kind.toLowerCase(), o.name, ...(o.namespace ? ['-n', o.namespace] : []), '-o', 'name']);
        expect(found.stdout.trim()).not.toBe('');
      }
    }
  });

  it('has benign actors in the same log, from their own addresses', () => {
    const users = new Set(s().events.filter((e) => !s().key.attacker.sourceIPs.includes(e.sourceIPs?.[0] ?? '')).map((e) => e.user.username));
    for (const benign of ['system:serviceaccount:monitoring:prometheus', 'system:serviceaccount:payments:payments-api', 'system:serviceaccount:ci:deployer']) {
      expect(users).toContain(benign);
    }
    expect(s().key.benignUsernames).toContain('system:serviceaccount:monitoring:prometheus');
  });

  it('leaves the compromised pod its files and log, hashed in the answer key', async () => {
    const { key, cluster } = s();
    const { rootfs, logs } = podDir(cluster.dir, key.compromisedPod.namespace, key.compromisedPod.name);
    for (const file of key.files) {
      const content = await readFile(path.join(rootfs, file.path));
      expect(createHash('sha256').update(content).digest('hex'), file.path).toBe(file.sha256);
    }
    expect((await readFile(path.join(rootfs, 'tmp/ci.token'), 'utf8')).trim().split('.')).toHaveLength(3);
    expect((await readFile(path.join(rootfs, 'etc/hostname'), 'utf8')).trim()).toBe(key.compromisedPod.name);
    const log = await readFile(path.join(logs, `${key.compromisedPod.containers[0]}.log`), 'utf8');
    expect(log.trim().split('\n')).toHaveLength(key.logLines);
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z (stdout|stderr) F /);
    expect(log).toContain(String(key.params.outsideIp));
    expect(key.compromisedPod.images).toEqual(['registry.shop.internal/web-app:2.14.1']);
    expect(key.compromisedPod.knownGoodImage).not.toBe(key.compromisedPod.images[0]);
  });
  it('begins with discovery and refused requests, before any secret is read', () => {
    const attacker = byAttacker(s());
    const firstSecret = attacker.find((e) => e.objectRef?.resource === 'secrets')!.requestReceivedTimestamp!;
    const before = attacker.filter((e) => e.requestReceivedTimestamp! < firstSecret);
    expect(before.map((e) => e.requestURI)).toEqual(expect.arrayContaining(['/api', '/apis']));
    expect(before.some((e) => e.verb === 'create' && e.objectRef?.resource === 'selfsubjectrulesreviews')).toBe(true);
    expect(before.some((e) => e.verb === 'list' && e.objectRef?.resource === 'pods' && e.objectRef.namespace === 'production')).toBe(true);
    // Denied requests: the service account's RBAC refuses them, and the attacker tries again.
    const denied = attacker.filter((e) => e.responseStatus?.code === 403);
    expect(denied.length).toBeGreaterThanOrEqual(3);
    expect(denied.some((e) => e.objectRef?.resource === 'nodes')).toBe(true);
    expect(s().key.firstMaliciousAt).toBe(before[0]?.requestReceivedTimestamp);
  });

  it('spaces the timeline as written (scaled), in order, over minutes at scale 1', async () => {
    const { loaded } = await loadScenario(process.cwd(), 'scenarios/compromised-web-app');
    const scale = scenarioTimeScale();
    const ids = new Map(s().events.map((e) => [e.auditID, e]));
    const made = s().result.outcomes.filter((o) => o.auditId && ids.has(o.auditId));
    expect(made.length).toBeGreaterThan(s().result.outcomes.length - 3);
    const received = (o: StepOutcome) => Date.parse(ids.get(o.auditId!)!.requestReceivedTimestamp!);
    for (let i = 1; i < made.length; i++) {
      const wanted = durationMs(made[i]!.step.after ?? '0s') * scale;
      // The API server received each request at least the step's pause after the previous one.
      expect(received(made[i]!) - received(made[i - 1]!), `timeline[${made[i]!.index}]`).toBeGreaterThanOrEqual(Math.floor(wanted) - 1);
    }
    // Written as minutes of dwell time: from the attacker's first request to the last.
    const timeline = loaded!.scenario.timeline.flatMap((step) => Array.from({ length: step.forEach ? [s().key.params[step.forEach]].flat().length : 1 }, () => ({ step })));
    const first = timeline.findIndex((t) => t.step.malicious);
    const last = timeline.findLastIndex((t) => t.step.malicious);
    const dwell = timeline.slice(first + 1, last + 1).reduce((sum, t) => sum + durationMs(t.step.after ?? '0s'), 0);
    expect(dwell).toBeGreaterThanOrEqual(5 * 60_000);
  });

  it('gives every request in the incident a user agent, and no seeding traffic falls inside it', () => {
    const { events, result, key } = s();
    const ids = new Set(result.outcomes.map((o) => o.auditId));
    const made = events.filter((e) => ids.has(e.auditID));
    const start = made[0]!.requestReceivedTimestamp!;
    const end = made.at(-1)!.requestReceivedTimestamp!;
    const window = events.filter((e) => e.requestReceivedTimestamp! >= start && e.requestReceivedTimestamp! <= end);
    expect(window.filter((e) => !e.userAgent).map((e) => `${e.user.username} ${e.verb} ${e.requestURI}`)).toEqual([]);
    expect(window.filter((e) => e.userAgent === SEEDER_AGENT).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
    // The admin acts in the story (debugging staging), but never while the attacker does.
    const admin = result.outcomes.find((o) => o.step.as === 'admin')!.username;
    const last = key.steps.map((step) => step.at).sort().at(-1)!;
    const inAttack = events.filter((e) => e.user.username === admin && e.requestReceivedTimestamp! >= key.firstMaliciousAt && e.requestReceivedTimestamp! <= last);
    expect(inAttack.map((e) => `${e.userAgent} ${e.verb} ${e.requestURI}`)).toEqual([]);
    // Every step sends the user agent its client would, not the schema's default.
    for (const o of result.outcomes) expect(o.step.userAgent, `timeline[${o.index}]`).not.toMatch(/kubernetes\/0000000$/);
  });

  it('did its own setup (tokens, the stolen secret) before a quiet gap', async () => {
    const { loaded } = await loadScenario(process.cwd(), 'scenarios/compromised-web-app');
    const { events, result } = s();
    const firstStep = events.find((e) => e.auditID === result.outcomes[0]!.auditId)!.requestReceivedTimestamp!;
    const setup = events.filter((e) => e.userAgent === SEEDER_AGENT && e.requestReceivedTimestamp! < firstStep);
    expect(setup.some((e) => e.objectRef?.subresource === 'token')).toBe(true);
    expect(setup.some((e) => e.verb === 'get' && e.objectRef?.name === 'deployer-token')).toBe(true);
    const gap = Date.parse(firstStep) - Date.parse(setup.at(-1)!.requestReceivedTimestamp!);
    expect(gap).toBeGreaterThanOrEqual(Math.floor(durationMs(loaded!.scenario.startAfter) * scenarioTimeScale()) - 1);
  });
});

describe('two learners', () => {
  it('get different indicators of compromise', () => {
    const [a, b] = seeded.map((s) => s.key);
    const iocs = (k: AnswerKey) => [k.params.outsideIp, k.podsCreated[0]?.name, k.params.bindingName].join(' ');
    expect(iocs(a!)).not.toBe(iocs(b!));
    expect(a!.params.outsideIp).not.toBe(b!.params.outsideIp);
  });

  it('cannot seed a cluster twice', async () => {
    const { loaded } = await loadScenario(process.cwd(), 'scenarios/compromised-web-app');
    await expect(seedScenario(seeded[0]!.cluster, loaded!, { seed: 'again', answerKeys: path.join(work, 'keys') })).rejects.toThrow(/already holds scenario/);
  });
});
