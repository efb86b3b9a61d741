// A drill on a REAL embedded cluster through the drill service: the scenario is seeded, a
// conditional attacker inject fires while the pod is not contained and lands in the audit log as
// the attacker (their own token, their X-Forwarded-For address); a participant contains the pod
// with the lab's reference solution through their own kubeconfig (audited as drill:<name>); the
// next inject with the same condition is skipped; the scoreboard records contain's first green;
// a reopened service on the same SQLite file (a restart) keeps the log and the clock and fires
// nothing twice; the report merges it all, in Markdown and HTML.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportToHtml, reportToMarkdown } from '../../src/lib/drill-report-render.ts';
import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { loadDrills } from '../../src/server/drill/instance.ts';
import type { LoadedDrill } from '../../src/server/drill/load.ts';
import { liveRuntime, type AttackOutcome, type DrillRuntime } from '../../src/server/drill/runtime.ts';
import { drillService, type DrillService } from '../../src/server/drill/service.ts';
import { freshClusters, type ClusterSource } from '../../src/server/lab/cluster-source.ts';
import { runSolution } from '../../src/server/lab/solution.ts';
import { learnerService } from '../../src/server/learners/learners.ts';
import { allMigrations, openStore, type Store } from '../../src/server/store/index.ts';

let work: string;
let provider: EmbeddedProvider;
let source: ClusterSource;
let store: Store;
let drills: LoadedDrill[];
let runtime: DrillRuntime;
let service: DrillService;
let drillId: string;
let clusterName: string;
let fac: { facilitatorToken: string };
let alice: { learnerId: string };
let participant: { id: string; name: string };

function open(): DrillService {
  runtime = liveRuntime({ clusters: source, answerKeys: path.join(work, 'keys'), stateDir: path.join(work, 'drills'), emptyWorkspace: path.join(work, 'empty') });
  return drillService({ store, drills: async () => drills, runtime });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-drill-it-'));
  await mkdir(path.join(work, 'empty'));
  provider = new EmbeddedProvider({ workDir: path.join(work, 'kwok') });
  source = freshClusters(provider);
  store = openStore(path.join(work, 'irlab.db'), allMigrations);
  drills = await loadDrills(process.cwd());
  service = open();
  const created = await service.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Incident commander', 'Containment'] });
  drillId = created.drill.id;
  fac = { facilitatorToken: created.facilitatorToken };
  await service.prepared(drillId);
  const view = await service.view(drillId, fac);
  expect(view.cluster, view.cluster.message).toMatchObject({ status: 'ready' });
  clusterName = store.prepare('SELECT cluster_name FROM drills WHERE id = ?').get(drillId)!.cluster_name as string;
  alice = { learnerId: learnerService({ store }).create().learner.id };
  const joined = await service.join(created.drill.code, alice.learnerId, 'Alice', 'Containment');
  participant = { id: joined.participant.id, name: joined.participant.name };
}, 240_000);

afterAll(async () => {
  for (const cluster of await provider.list()) await source.release(cluster.name);
  store?.close();
  await rm(work, { recursive: true, force: true });
}, 60_000);

const attackOutcomes = () =>
  (store.prepare("SELECT detail FROM drill_log WHERE drill_id = ? AND kind = 'attack' ORDER BY seq").all(drillId) as Array<{ detail: string }>).map(
    (r) => (JSON.parse(r.detail) as { inject: string; outcomes: AttackOutcome[] }),
  );

describe('a drill on a real cluster', () => {
  it('fires the conditional attack while the pod is not contained, as the attacker, into the audit log', async () => {
    await service.control(drillId, fac, 'start');
    await service.control(drillId, fac, 'fast-forward', 3); // brief, SOC alert, escalate
    const view = await service.view(drillId, fac);
    expect(view.log.filter((e) => e.kind === 'inject').map((e) => e.title)).toEqual(['Incident declared', 'SOC alert: secret enumeration from a pod IP', 'SOC: the same account is still active']);
    const [escalate] = attackOutcomes();
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
    const label = events.find((e) => e.impersonatedUser?.username === 'drill:Alice' && e.verb === 'patch' && e.objectRef?.resource === 'pods');
    expect(label, 'the label is audited as drill:Alice').toBeDefined();

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

  it('skips the next inject with the same condition now that the pod is contained', async () => {
    await service.control(drillId, fac, 'fast-forward', 5); // management (5m), persistence (7m), payments-again (8m)
    const view = await service.view(drillId, fac);
    const skipped = view.log.filter((e) => e.kind === 'attack-skipped');
    expect(skipped).toHaveLength(1);
    const outcomes = attackOutcomes();
    // persistence (unless eradicate) still fires; payments-again (unless contain) does not.
    expect(outcomes.map((o) => o.inject)).toEqual(['escalate', 'persistence']);
    expect(outcomes[1]!.outcomes[0]).toMatchObject({ kind: 'Pod', namespace: 'kube-system', status: 201, technique: 'T1611' });
    const statuses = Object.fromEntries((store.prepare('SELECT inject_id, status FROM drill_injects WHERE drill_id = ?').all(drillId) as Array<{ inject_id: string; status: string }>).map((r) => [r.inject_id, r.status]));
    expect(statuses).toMatchObject({ escalate: 'fired', 'payments-again': 'skipped', persistence: 'fired', legal: 'pending' });
  }, 120_000);

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
    const fired = store.prepare("SELECT json_extract(detail, '$.inject') AS id, COUNT(*) AS n FROM drill_log WHERE drill_id = ? AND kind IN ('inject', 'attack') GROUP BY id, kind HAVING n > 1").all(drillId);
    expect(fired).toEqual([]);

    await service.control(drillId, fac, 'end');
    const report = await service.report(drillId);
    const kinds = new Set(report.timeline.map((e) => e.kind));
    for (const kind of ['inject', 'attack', 'attack-skipped', 'note', 'decision', 'check', 'audit']) expect(kinds, kind).toContain(kind);
    expect(report.timeline.some((e) => e.kind === 'audit' && e.role === 'attacker' && e.tMs < 0 && e.technique?.id === 'T1613')).toBe(true); // the seeded compromise
    expect(report.timeline.some((e) => e.kind === 'audit' && e.actor === 'Alice' && e.phase === 'Containment, Eradication & Recovery')).toBe(true);
    expect(report.metrics.timeToContainMs).not.toBeNull();
    expect(report.toImprove.join('\n')).toContain('Eradicate never passed');
    expect(report.drill.attackerIdentities).toContain('system:serviceaccount:production:web-app');
    const markdown = reportToMarkdown(report);
    expect(markdown).toContain('T1098.006');
    expect(markdown).toContain('Notes survive restarts \\<b\\>really\\</b\\>');
    const html = reportToHtml(report);
    expect(html).toContain('Notes survive restarts &lt;b&gt;really&lt;/b&gt;');
    expect(html).toContain('Account Manipulation');
    expect((await provider.list()).map((c) => c.name)).not.toContain(clusterName); // ending releases the cluster
  }, 120_000);
});
