// A drill on a REAL embedded cluster through the drill service: the scenario is seeded, a
// conditional attacker inject fires while the pod is not contained and lands in the audit log as
// the attacker (their own token, their X-Forwarded-For address); a participant contains the pod
// with the lab's reference solution through their own kubeconfig (a client certificate of their
// own, audited as their own user); containment alone does not stop later injects (stolen tokens); the
// scoreboard records contain's first green; a second participant cannot act as the first (403)
// and their own delete is blamed on them; they eradicate with the responder role; a reopened
// service on the same SQLite file (a restart) keeps the log and the clock and fires nothing
// twice; the report merges it all, in Markdown and HTML.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { reportToHtml, reportToMarkdown } from '../../src/lib/drill-report-render.ts';
import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { loadDrills } from '../../src/server/drill/project-drills.ts';
import type { LoadedDrill } from '../../src/server/drill/load.ts';
import { RESPONDER_GROUP, RESPONDER_ROLE, responderUsername } from '../../src/server/drill/responders.ts';
import { liveRuntime, type AttackOutcome, type DrillRuntime } from '../../src/server/drill/runtime.ts';
import { drillService, type DrillService } from '../../src/server/drill/service.ts';
import { freshClusters, type ClusterSource } from '../../src/server/lab/cluster-source.ts';
import { runSolution } from '../../src/server/lab/solution.ts';
import { learnerService } from '../../src/server/learners/learners.ts';
import { flattenKubeconfig } from '../../src/server/terminal/kubeconfig.ts';
import { allMigrations, openSqliteStore } from '../../src/server/store/index.ts';
import type { SqlStore } from '../../src/server/store/sql-store.ts';

let work: string;
let provider: EmbeddedProvider;
let source: ClusterSource;
let store: SqlStore;
let drills: LoadedDrill[];
let runtime: DrillRuntime;
let service: DrillService;
let drillId: string;
let clusterName: string;
let fac: { facilitatorToken: string };
let alice: { learnerId: string };
let participant: { id: string; name: string };
let bob: { id: string; name: string };

/** kubectl as someone, never through a shell; resolves with the exit code and output. */
async function kubectl(kubeconfig: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return promisify(execFile)(path.join(binDir(readEngineVersions()), 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof error.code === 'number' ? error.code : 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
}

/** The client certificate and key a kubeconfig holds. */
function credentialOf(kubeconfigText: string): { certificate: X509Certificate; keyData: string; user: Record<string, unknown> } {
  const config = parse(kubeconfigText) as { users: Array<{ user: Record<string, unknown> }> };
  expect(config.users).toHaveLength(1);
  const user = config.users[0]!.user;
  return { certificate: new X509Certificate(Buffer.from(String(user['client-certificate-data']), 'base64')), keyData: String(user['client-key-data']), user };
}

function open(): DrillService {
  runtime = liveRuntime({ clusters: source, answerKeys: path.join(work, 'keys'), stateDir: path.join(work, 'drills'), emptyWorkspace: path.join(work, 'empty') });
  return drillService({ store, drills: async () => drills, runtime });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-drill-it-'));
  await mkdir(path.join(work, 'empty'));
  provider = new EmbeddedProvider({ workDir: path.join(work, 'kwok') });
  source = freshClusters(provider);
  store = await openSqliteStore(path.join(work, 'irlab.db'), allMigrations);
  drills = await loadDrills(process.cwd());
  service = open();
  const created = await service.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Incident commander', 'Containment'] });
  drillId = created.drill.id;
  fac = { facilitatorToken: created.facilitatorToken };
  await service.prepared(drillId);
  const view = await service.view(drillId, fac);
  expect(view.cluster, view.cluster.message).toMatchObject({ status: 'ready' });
  clusterName = (await store.get<{ cluster_name: string }>('SELECT cluster_name FROM drills WHERE id = ?', [drillId]))!.cluster_name;
  alice = { learnerId: (await learnerService({ store }).create()).learner.id };
  const joined = await service.join(created.drill.code, alice.learnerId, 'Alice', 'Containment');
  participant = { id: joined.participant.id, name: joined.participant.name };
  const bobLearner = (await learnerService({ store }).create()).learner.id;
  const bobJoined = await service.join(created.drill.code, bobLearner, 'Bob', 'Incident commander');
  bob = { id: bobJoined.participant.id, name: bobJoined.participant.name };
}, 240_000);

afterAll(async () => {
  for (const cluster of await provider.list()) await source.release(cluster.name);
  await store?.close();
  await rm(work, { recursive: true, force: true });
}, 60_000);

const attackOutcomes = async () =>
  (await store.all<{ detail: string }>("SELECT detail FROM drill_log WHERE drill_id = ? AND kind = 'attack' ORDER BY seq", [drillId])).map(
    (r) => (JSON.parse(r.detail) as { inject: string; outcomes: AttackOutcome[] }),
  );

describe('a drill on a real cluster', () => {
  it('fires the conditional attack while the pod is not contained, as the attacker, into the audit log', async () => {
    await service.control(drillId, fac, 'start');
    await service.control(drillId, fac, 'fast-forward', 3); // brief, SOC alert, escalate
    const view = await service.view(drillId, fac);
    expect(view.log.filter((e) => e.kind === 'inject').map((e) => e.title)).toEqual(['Incident declared', 'SOC alert: secret enumeration from a pod IP', 'SOC: the same account is still active']);
    const [escalate] = (await attackOutcomes());
    expect(escalate?.inject).toBe('escalate');
    const key = await runtime.answerKey(clusterName);
    const binding = escalate!.outcomes.find((o) => o.kind === 'ClusterRoleBinding')!;
    expect(binding, JSON.stringify(escalate)).toMatchObject({ status: 201, username: 'system:serviceaccount:production:web-app', sourceIP: key.compromisedPod.ip, technique: 'T1098.006' });

    const events = await runtime.auditEvents(clusterName);
    const recorded = events.find((e) => e.auditID === binding.auditId)!;
    expect(recorded.user.username).toBe('system:serviceaccount:production:web-app');
    expect(recorded.sourceIPs?.[0]).toBe(key.compromisedPod.ip);
    expect(recorded.objectRef?.name).toBe(`${String(key.params.bindingName)}-ha`);
    expect(recorded.responseStatus?.code).toBe(201);
  }, 120_000);

  it('a participant contains the pod through their own kubeconfig; the scoreboard records the first green', async () => {
    const kubeconfig = await runtime.participantKubeconfig(clusterName, drillId, participant);
    const key = await runtime.answerKey(clusterName);
    const step = drills[0]!.lab.lab.steps.find((s) => s.id === 'contain')!;
    const workspace = path.join(work, 'alice');
    await mkdir(workspace, { recursive: true });
    const runs = await runSolution(step.solution, key, { workspace, kubeconfig, binDir: binDir(readEngineVersions()) });
    const failed = runs.find((r) => r.exitCode !== 0);
    expect(failed, failed ? `${failed.command}\n${failed.output}` : '').toBeUndefined();

    const events = await runtime.auditEvents(clusterName);
    const label = events.find((e) => e.user.username === responderUsername(participant) && e.verb === 'patch' && e.objectRef?.resource === 'pods');
    expect(label, 'the label is audited as Alice herself').toBeDefined();
    expect(label!.impersonatedUser).toBeUndefined();

    await service.post(drillId, alice, 'decision', 'Pod quarantined with a deny-all NetworkPolicy');
    await service.score();
    // The checks' messages come from the answer key: while the drill runs nobody receives them.
    const seen = JSON.stringify(await service.view(drillId, alice)) + JSON.stringify(await service.view(drillId, fac));
    for (const fact of [key.compromisedPod.name, key.bindingsCreated[0]!.name, key.podsCreated[0]!.name, ...key.secretsRead.filter((s) => !s.endsWith('/*'))]) {
      expect(seen, fact).not.toContain(fact);
    }
    const view = await service.view(drillId, fac);
    const contain = view.scoreboard.find((r) => r.step === 'contain')!;
    expect(contain.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(contain.passedAt).not.toBeNull();
    expect(view.log.filter((e) => e.kind === 'check').map((e) => e.title)).toEqual(['Contain the compromised pod: done']);
    expect(view.scoreboard.find((r) => r.step === 'eradicate')?.passedAt).toBeNull();
  }, 120_000);

  it('does not skip later attacks for containment alone, only once the stolen token is revoked', async () => {
    await service.control(drillId, fac, 'fast-forward', 4); // management (5m), persistence (7m)
    expect((await service.view(drillId, fac)).log.filter((e) => e.kind === 'attack-skipped')).toHaveLength(0);
    const outcomes = (await attackOutcomes());
    // The pod is quarantined, yet the stolen CI token still works from outside.
    expect(outcomes.map((o) => o.inject)).toEqual(['escalate', 'persistence']);
    expect(outcomes[1]!.outcomes[0]).toMatchObject({ kind: 'Pod', namespace: 'kube-system', status: 201, technique: 'T1611', username: 'system:serviceaccount:ci:deployer' });

    // Revoke the pod's token at its source: the service account deleted and recreated (the pod is kept as evidence).
    const kubeconfig = await runtime.participantKubeconfig(clusterName, drillId, participant);
    for (const args of [['delete', 'serviceaccount', 'web-app', '-n', 'production'], ['create', 'serviceaccount', 'web-app', '-n', 'production']]) {
      const result = await kubectl(kubeconfig, ...args);
      expect(result.code, result.out).toBe(0);
    }
    await service.control(drillId, fac, 'fast-forward', 1); // payments-again (8m), unless the pod's token is revoked
    expect((await service.view(drillId, fac)).log.filter((e) => e.kind === 'attack-skipped')).toHaveLength(1);
    expect((await attackOutcomes()).map((o) => o.inject)).toEqual(['escalate', 'persistence']);
    const statuses = Object.fromEntries((await store.all<{ inject_id: string; status: string }>('SELECT inject_id, status FROM drill_injects WHERE drill_id = ?', [drillId])).map((r) => [r.inject_id, r.status]));
    expect(statuses).toMatchObject({ escalate: 'fired', 'payments-again': 'skipped', persistence: 'fired', legal: 'pending' });
  }, 180_000);

  it('hands each participant a certificate of their own, never the admin credential', async () => {
    const cluster = (await provider.list()).find((c) => c.name === clusterName)!;
    const admin = credentialOf(await flattenKubeconfig(cluster.kubeconfigPath));
    expect(admin.certificate.subject).toMatch(/O=system:masters/);
    const ca = new X509Certificate(await readFile(path.join(cluster.dir, 'pki', 'ca.crt')));
    for (const person of [participant, bob]) {
      const file = await runtime.participantKubeconfig(clusterName, drillId, person);
      const text = await readFile(file, 'utf8');
      const own = credentialOf(text);
      expect(own.certificate.subject.split('\n').sort()).toEqual([`CN=${responderUsername(person)}`, `O=${RESPONDER_GROUP}`]);
      expect(own.certificate.ca, 'a leaf: it cannot sign certificates for anyone else').toBe(false);
      expect(own.certificate.checkIssued(ca)).toBe(true);
      expect(Object.keys(own.user).sort()).toEqual(['client-certificate-data', 'client-key-data']); // no `as`, no token
      expect(own.certificate.fingerprint256).not.toBe(admin.certificate.fingerprint256);
      expect(text).not.toContain(admin.keyData);
      expect(text).not.toContain(String(admin.user['client-certificate-data']));
      expect((await kubectl(file, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')).out).toBe(responderUsername(person));
    }
    // The same file on the next terminal: issued once.
    expect(await readFile(await runtime.participantKubeconfig(clusterName, drillId, bob), 'utf8')).toBe(await readFile(await runtime.participantKubeconfig(clusterName, drillId, bob), 'utf8'));
  }, 120_000);

  it('refuses one participant acting as another; their own delete is theirs in the audit log', async () => {
    const bobConfig = await runtime.participantKubeconfig(clusterName, drillId, bob);
    const aliceUser = responderUsername(participant);
    const refused = [
      ['--as', aliceUser, 'delete', 'networkpolicy', 'quarantine', '-n', 'production'],
      ['--as', 'kubernetes-admin', '--as-group', 'system:masters', 'get', 'secrets', '-A'],
      ['--as', 'system:serviceaccount:production:web-app', 'get', 'pods', '-n', 'production'],
      ['create', 'token', 'web-app', '-n', 'production'],
      ['create', 'clusterrolebinding', 'bob-admin', '--clusterrole=cluster-admin', `--user=${responderUsername(bob)}`],
      // RBAC's escalation check: a role may be given only rights its writer already holds.
      // Their own role and binding: the admission guard, or the whole team would be locked out.
      ['delete', 'clusterrolebinding', RESPONDER_GROUP],
      ['delete', 'clusterrole', RESPONDER_ROLE],
      ['patch', 'clusterrole', RESPONDER_ROLE, '--type=json', '-p', '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["users"],"verbs":["impersonate"]}}]'],
    ];
    for (const args of refused) {
      const result = await kubectl(bobConfig, ...args);
      expect(result.code, `${args.join(' ')}: ${result.out}`).not.toBe(0);
      expect(result.out, args.join(' ')).toMatch(/forbidden|cannot|Forbidden/);
    }
    expect((await kubectl(bobConfig, 'get', 'networkpolicy', 'quarantine', '-n', 'production')).code).toBe(0); // still there

    const deleted = await kubectl(bobConfig, 'delete', 'networkpolicy', 'quarantine', '-n', 'production');
    expect(deleted.code, deleted.out).toBe(0);
    const events = await runtime.auditEvents(clusterName);
    const deletes = events.filter((e) => e.verb === 'delete' && e.objectRef?.resource === 'networkpolicies' && e.objectRef.name === 'quarantine');
    expect(deletes.filter((e) => e.responseStatus?.code === 200).map((e) => [e.user.username, e.impersonatedUser?.username])).toEqual([[responderUsername(bob), undefined]]);
    expect(deletes.every((e) => e.user.username === responderUsername(bob))).toBe(true);

    // Containment again, then eradication, with nothing but the responder role.
    const key = await runtime.answerKey(clusterName);
    const workspace = path.join(work, 'bob');
    await mkdir(workspace, { recursive: true });
    for (const stepId of ['contain', 'eradicate']) {
      const step = drills[0]!.lab.lab.steps.find((s) => s.id === stepId)!;
      const runs = await runSolution(step.solution.filter((c) => !c.startsWith('kubectl label')), key, { workspace, kubeconfig: bobConfig, binDir: binDir(readEngineVersions()) });
      const failed = runs.find((r) => r.exitCode !== 0);
      expect(failed, failed ? `${failed.command}\n${failed.output}` : '').toBeUndefined();
    }
    // What the live injects added after seeding (the second binding, the persistence pod).
    for (const leftover of [
      ['clusterrolebinding', `${String(key.params.bindingName)}-ha`],
      ['pod', '-n', 'kube-system', `${String(key.params.agentName)}-${String(key.params.agentSuffix)}-b`],
    ]) {
      const result = await kubectl(bobConfig, 'delete', ...leftover);
      expect(result.code, result.out).toBe(0);
    }
    await service.score();
    const board = (await service.view(drillId, fac)).scoreboard;
    expect(board.find((r) => r.step === 'eradicate')!.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(board.find((r) => r.step === 'contain')!.criteria.filter((c) => !c.passed)).toEqual([]);
  }, 180_000);

  it('survives a restart: same log and clock, nothing fires twice; the report merges the timeline', async () => {
    await service.post(drillId, alice, 'note', 'Notes survive restarts <b>really</b>');
    const before = await service.view(drillId, fac);
    service = open(); // a new process on the same database and the same (still running) cluster
    await service.resume();
    await service.tick();
    const after = await service.view(drillId, fac);
    expect(after.log.slice(0, before.log.length)).toEqual(before.log);
    expect(after.clock.elapsedMs).toBeGreaterThanOrEqual(before.clock.elapsedMs);
    expect(after.cluster.status).toBe('ready');
    const fired = await store.all("SELECT json_extract(detail, '$.inject') AS id, COUNT(*) AS n FROM drill_log WHERE drill_id = ? AND kind IN ('inject', 'attack') GROUP BY id, kind HAVING n > 1", [drillId]);
    expect(fired).toEqual([]);

    await service.control(drillId, fac, 'end');
    const report = await service.report(drillId);
    const kinds = new Set(report.timeline.map((e) => e.kind));
    for (const kind of ['inject', 'attack', 'attack-skipped', 'note', 'decision', 'check', 'audit']) expect(kinds, kind).toContain(kind);
    expect(report.timeline.some((e) => e.kind === 'audit' && e.role === 'attacker' && e.tMs < 0 && e.technique?.id === 'T1613')).toBe(true); // the seeded compromise
    expect(report.timeline.some((e) => e.kind === 'audit' && e.actor === 'Alice' && e.phase === 'Containment, Eradication & Recovery')).toBe(true);
    // Bob's delete (and his refused attempt to act as Alice) are Bob's; nothing of it is Alice's.
    const policyDeletes = report.timeline.filter((e) => e.kind === 'audit' && e.title === 'delete networkpolicies production/quarantine');
    expect(policyDeletes.length).toBeGreaterThan(0);
    expect(policyDeletes.map((e) => e.actor)).toEqual(policyDeletes.map(() => 'Bob'));
    expect(report.metrics.timeToContainMs).not.toBeNull();
    expect(report.metrics.timeToEradicateMs).not.toBeNull();
    expect(report.drill.attackerIdentities).toContain('system:serviceaccount:production:web-app');
    const markdown = reportToMarkdown(report);
    expect(markdown).toContain('T1098.006');
    expect(markdown).toContain('Notes survive restarts \\<b\\>really\\</b\\>');
    const html = reportToHtml(report);
    expect(html).toContain('Notes survive restarts &lt;b&gt;really&lt;/b&gt;');
    expect(html).toContain('Account Manipulation');
    expect((await provider.list()).map((c) => c.name)).not.toContain(clusterName); // ending deletes the cluster
    expect((await service.view(drillId, fac)).cluster.status).toBe('deleted');
  }, 120_000);
});
