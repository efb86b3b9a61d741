// The drill service's own logic with an injected clock: scheduling, conditions, pause,
// fast-forward, restart re-arming, authorization and what each caller may see. The cluster side
// is a scripted DrillRuntime that answers "did this step pass?" from a table and records the
// attack steps it was asked to run; the real runtime on a real cluster is proven in
// tests/integration/drill-live.test.ts.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../lib/check-result.ts';
import { learnerService } from '../learners/learners.ts';
import { loadDrills } from './project-drills.ts';
import type { LoadedDrill } from './load.ts';
import type { AttackOutcome, DrillRuntime } from './runtime.ts';
import { drillService, sha256, type DrillService, type DrillTerminals } from './service.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';

let drills: LoadedDrill[];
let bindingNames: string[];

beforeAll(async () => {
  drills = await loadDrills(process.cwd());
  const scenario = parse(await readFile('scenarios/compromised-web-app/scenario.yaml', 'utf8')) as { params: { bindingName: { pick: string[] } } };
  bindingNames = scenario.params.bindingName.pick;
});

/** Answers step conditions from `passing` and records the attacks it was asked to make. */
function scriptedRuntime() {
  const passing = new Set<string>();
  const attacks: string[][] = [];
  const runtime: DrillRuntime = {
    prepare: async () => 'drill-cluster-1',
    exists: async () => true,
    values: async () => ({ compromisedPodIp: '10.244.0.7' }),
    // A step passes when its id is in `passing`; a criterion id in `passing` (e.g. pod-tokens-revoked) passes on its own.
    evaluate: async (_c, _d, step): Promise<CheckResult> => ({
      passed: passing.has(step), score: passing.has(step) ? 1 : 0,
      criteria: [{ id: step, passed: passing.has(step), message: `${step} ${passing.has(step) ? 'ok' : 'not yet'}` }, ...[...passing].filter((id) => id.includes('-revoked')).map((id) => ({ id, passed: true, message: 'ok' }))],
    }),
    attack: async (_c, _d, steps) => {
      attacks.push(steps.map((s) => `${s.request.verb} ${s.request.kind}`));
      return steps.map((s): AttackOutcome => ({ technique: s.technique ?? null, note: null, username: 'system:serviceaccount:production:web-app', sourceIP: '10.244.0.7', userAgent: 'curl', verb: s.request.verb, kind: s.request.kind, namespace: s.request.namespace ?? null, name: s.request.name ?? null, status: 200, auditId: null, error: null }));
    },
    participantKubeconfig: async () => '/dev/null',
    auditEvents: async () => [],
    auditLogPath: async (cluster) => `/clusters/${cluster}/audit.log`,
    answerKey: async () => Promise.reject(new Error('no answer key in this test')),
    release: async () => {},
  };
  return { runtime, passing, attacks };
}

/** The terminal manager's side as the service sees it: records who opened and which groups were closed. */
function recordingTerminals() {
  const opened: string[] = [];
  const closed: string[] = [];
  const terminals: DrillTerminals = {
    open: async (owner) => {
      opened.push(owner);
      return { id: `term-${opened.length}`, createdAt: 0 };
    },
    closeGroup: async (group) => void closed.push(group),
    recordingPath: () => '/dev/null',
    workspaceDir: () => '/nonexistent',
  };
  return { terminals, opened, closed };
}

let store: SqlStore;
let clock: number;
let script: ReturnType<typeof scriptedRuntime>;
const service = (): DrillService => drillService({ store, drills: async () => drills, runtime: script.runtime, now: () => clock });

async function created(s = service()) {
  const { drill, facilitatorToken } = await s.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Incident commander', 'Containment'] });
  await s.prepared(drill.id);
  const learners = learnerService({ store });
  const alice = (await learners.create()).learner.id;
  const bob = (await learners.create()).learner.id;
  await s.join(drill.code, alice, 'Alice', 'Incident commander');
  await s.join(drill.code, bob, 'Bob', 'Containment');
  return { id: drill.id, code: drill.code, fac: { facilitatorToken }, alice: { learnerId: alice }, bob: { learnerId: bob } };
}

const injectEntries = (s: DrillService, id: string, fac: { facilitatorToken: string }) =>
  s.view(id, fac).then((v) => v.log.filter((e) => e.kind === 'inject').map((e) => e.title));
const minutes = (n: number) => n * 60_000;

describe.each(testStores())('drill service on $name', (backend) => {
  const open = openedPerTest();
  beforeEach(async () => {
    store = await open(backend);
    clock = Date.parse('2026-11-27T20:00:00Z');
    script = scriptedRuntime();
  });

  it('stores only the hash of the facilitator token and keeps answer keys and upcoming injects from participants', async () => {
    const s = service();
    const { id, fac, alice } = await created(s);
    const row = (await store.get('SELECT * FROM drills WHERE id = ?', [id]))!;
    expect(JSON.stringify(row)).not.toContain(fac.facilitatorToken);
    expect(row.facilitator_sha256).toBe(sha256(fac.facilitatorToken));

    const facilitator = await s.view(id, fac);
    expect(facilitator.facilitator).toBe(true);
    expect(facilitator.upcomingInjects?.map((i) => i.id)).toEqual(['brief', 'soc-alert', 'escalate', 'management', 'persistence', 'payments-again', 'legal', 'wrap-up']);
    expect(facilitator.upcomingInjects?.find((i) => i.id === 'escalate')).toMatchObject({ conditional: true, attack: true, atMs: minutes(3) });

    const participant = JSON.stringify(await s.view(id, alice));
    expect(participant).not.toContain('upcomingInjects');
    expect(participant).not.toContain(fac.facilitatorToken);
    // The persistence inject's binding is `<bindingName>-ha`: every name it can take, because a
    // bare '-ha' also turns up by chance in the view's random base64url ids.
    const persistenceBindings = bindingNames.map((name) => `${name}-ha`);
    expect(persistenceBindings.length).toBeGreaterThan(1);
    for (const secret of [...persistenceBindings, 'cluster-admin', 'web-app-session-key', 'unless', 'solution', 'privileged', 'nsenter', 'A node engineer', 'SIEM']) expect(participant).not.toContain(secret);
    expect(JSON.stringify(facilitator)).not.toContain('web-app-session-key');

    await expect(s.view(id, {})).rejects.toMatchObject({ status: 403 });
    await expect(s.view(id, { facilitatorToken: 'x'.repeat(43) })).rejects.toMatchObject({ status: 403 });
    await expect(s.control(id, alice, 'start')).rejects.toMatchObject({ status: 403 });
    await expect(s.markExpectation(id, alice, 'ic-named', true)).rejects.toMatchObject({ status: 403 });
  });

  it('writes entries as the caller, with strictly increasing seq', async () => {
    const s = service();
    const { id, alice, bob, fac } = await created(s);
    const a = await s.post(id, alice, 'decision', 'Alice is IC');
    const b = await s.post(id, bob, 'note', 'Looking at pods');
    const f = await s.post(id, fac, 'note', 'Facilitator note');
    expect(a.author).toMatchObject({ name: 'Alice', role: 'Incident commander' });
    expect(b.author).toMatchObject({ name: 'Bob', role: 'Containment' });
    expect(f.author).toMatchObject({ participantId: null, role: 'facilitator' });
    const seqs = (await s.view(id, fac)).log.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    await expect(s.join('NOPE00', 'lrn_x', 'Eve', 'Containment')).rejects.toMatchObject({ status: 404 });
    // Watching a terminal read-only: only someone in the same drill.
    expect(await s.canWatch(bob.learnerId, `drill:${id}`)).toBe(true);
    expect(await s.canWatch(bob.learnerId, 'drill:drl_other')).toBe(false);
    expect(await s.canWatch('lrn_outsider', `drill:${id}`)).toBe(false);
    expect(await s.canWatch(bob.learnerId, null)).toBe(false);
  });

  it('locks terminals and the audit log until the clock starts, unless the facilitator opens them early', async () => {
    const t = recordingTerminals();
    const s = drillService({ store, drills: async () => drills, runtime: script.runtime, now: () => clock, terminals: t.terminals });
    const { id, fac, alice, bob } = await created(s);
    expect((await s.view(id, alice)).terminals).toMatchObject({ open: false, openedEarly: false });
    expect((await s.view(id, alice)).terminals.reason).toMatch(/starts the drill clock/);
    await expect(s.terminal(id, alice)).rejects.toMatchObject({ status: 423, message: expect.stringMatching(/wait for the start/) });
    await expect(s.auditLog(id, alice)).rejects.toMatchObject({ status: 423 });
    expect(t.opened).toEqual([]);
    // Only the facilitator opens them early, and only in the lobby.
    await expect(s.control(id, alice, 'open-terminals')).rejects.toMatchObject({ status: 403 });
    await s.control(id, fac, 'open-terminals');
    expect((await s.view(id, bob)).terminals).toMatchObject({ open: true, openedEarly: true, reason: '' });
    expect((await s.terminal(id, alice)).sessionId).toBe('term-1');
    expect(await s.auditLog(id, alice)).toBe('/clusters/drill-cluster-1/audit.log');
    expect((await s.view(id, fac)).log.at(-1)).toMatchObject({ kind: 'system', title: 'Terminals opened before the start' });
    // Locked again: the early shells are closed and no new one opens.
    await s.control(id, fac, 'lock-terminals');
    expect(t.closed).toEqual([`drill:${id}`]);
    await expect(s.terminal(id, bob)).rejects.toMatchObject({ status: 423 });
    // The clock opens them for everyone; the early switch is for the lobby only.
    await s.control(id, fac, 'start');
    expect((await s.view(id, bob)).terminals).toMatchObject({ open: true, openedEarly: false });
    expect((await s.terminal(id, bob)).sessionId).toBe('term-2');
    await expect(s.control(id, fac, 'lock-terminals')).rejects.toMatchObject({ status: 409 });
    // The lock entries are no clock marks: the report's drill time is untouched by them.
    expect(await store.get("SELECT COUNT(*) AS n FROM drill_log WHERE drill_id = ? AND detail LIKE '%control%terminals%'", [id])).toEqual({ n: 0 });
  });

  it('gives the audit log only to the drill\'s own participants, never to outsiders or another drill\'s team', async () => {
    const s = service();
    const first = await created(s);
    const second = await created(s);
    await s.control(first.id, first.fac, 'start');
    await s.control(second.id, second.fac, 'start');
    expect(await s.auditLog(first.id, first.alice)).toBe('/clusters/drill-cluster-1/audit.log');
    await expect(s.auditLog(first.id, second.alice)).rejects.toMatchObject({ status: 403 });
    await expect(s.auditLog(first.id, { learnerId: 'lrn_outsider' })).rejects.toMatchObject({ status: 403 });
    await expect(s.auditLog(first.id, {})).rejects.toMatchObject({ status: 403 });
    await expect(s.auditLog(first.id, first.fac)).rejects.toMatchObject({ status: 403 }); // the facilitator has no seat at the keyboard
    await expect(s.auditLog('drl_nope', first.alice)).rejects.toMatchObject({ status: 404 });
    await s.control(first.id, first.fac, 'end');
    await expect(s.auditLog(first.id, first.alice)).rejects.toMatchObject({ status: 409 });
  });

  it('renders a scripted inject\'s Markdown on the server, with values from the cluster as text', async () => {
    script.runtime.values = async () => ({ compromisedPodIp: '10.0.0.1<img src=x onerror=alert(1)>' });
    const s = service();
    const { id, fac, alice } = await created(s);
    await s.control(id, fac, 'start');
    clock += minutes(1);
    await s.tick();
    const log = (await s.view(id, alice)).log;
    const brief = log.find((e) => e.title === 'Incident declared')!;
    // The YAML's hard line breaks are no longer kept: one paragraph, Markdown rendered.
    expect(brief.html).toMatch(/^<p>The on-call engineer paged the team: the SOC sees the production <strong>web-app<\/strong> service account\s+talking/);
    expect(brief.html).toContain('<code>kubectl</code>');
    expect(brief.body).toContain('**web-app**'); // the Markdown source stays for the report
    const alert = log.find((e) => e.title.startsWith('SOC alert'))!;
    expect(alert.html).not.toContain('<img');
    expect(alert.html).toContain('<code>10.0.0.1&#60;img src=x onerror=alert(1)&#62;</code>'); // the value as text, in its code span
    // Entries people write are never HTML.
    const note = await s.post(id, alice, 'note', '**bold** <b>x</b>');
    expect(note.html).toBeUndefined();
  });

  it('keeps when each finding was first written, across later edits', async () => {
    const s = service();
    const { id, fac, alice, bob } = await created(s);
    await s.control(id, fac, 'start');
    const question = (await s.view(id, alice)).questions[0]!.id;
    await s.answer(id, alice, { [question]: '' });
    clock += minutes(2);
    await s.answer(id, alice, { [question]: 'web-app' });
    const firstAt = new Date(clock).toISOString();
    clock += minutes(3);
    await s.answer(id, bob, { [question]: 'web-app-7d9f' });
    expect(await store.get('SELECT first_at, at FROM drill_answers WHERE drill_id = ?', [id])).toEqual({ first_at: firstAt, at: new Date(clock).toISOString() });
  });

  it('fires injects on the drill clock: pause stops it, fast-forward jumps it, a live attack runs while contain fails', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.tick();
    expect(await injectEntries(s, id, fac)).toEqual([]); // lobby: the clock has not started
    await s.control(id, fac, 'start');
    expect(await injectEntries(s, id, fac)).toEqual(['Incident declared']);
    clock += minutes(1);
    await s.tick();
    const alert = (await s.view(id, fac)).log.find((e) => e.title.startsWith('SOC alert'))!;
    expect(alert.body).toContain('10.244.0.7'); // placeholders filled from the drill's own incident
    expect(alert.tMs).toBe(minutes(1));

    await s.control(id, fac, 'pause');
    clock += minutes(30);
    await s.tick();
    expect((await s.view(id, fac)).clock).toMatchObject({ elapsedMs: minutes(1), running: false });
    expect(await injectEntries(s, id, fac)).toHaveLength(2);

    await s.control(id, fac, 'resume');
    await s.control(id, fac, 'fast-forward', 2);
    const view = await s.view(id, fac);
    expect(view.clock.elapsedMs).toBe(minutes(3));
    expect(view.log.map((e) => e.kind)).toContain('attack');
    expect(script.attacks).toEqual([['get Secret', 'create ClusterRoleBinding']]);
    expect(view.upcomingInjects?.map((i) => i.id)).toEqual(['management', 'persistence', 'payments-again', 'legal', 'wrap-up']);
  });

  it('skips a conditional attack when its criteria pass at fire time (revocation, not containment), and fires a scripted inject early on request', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    // Containment alone does not stop an attacker who holds the pod's token.
    script.passing.add('contain');
    await s.inject(id, fac, { injectId: 'payments-again' });
    expect((await s.view(id, fac)).log.some((e) => e.kind === 'attack')).toBe(true);
    script.attacks.length = 0;
    script.passing.add('pod-tokens-revoked');
    await s.inject(id, fac, { injectId: 'escalate' });
    const log = (await s.view(id, fac)).log;
    expect(log.filter((e) => e.kind === 'attack-skipped')).toHaveLength(1);
    expect(log.filter((e) => e.kind === 'attack')).toHaveLength(1);
    expect(script.attacks).toEqual([]);
    await expect(s.inject(id, fac, { injectId: 'escalate' })).rejects.toMatchObject({ status: 409 });
    const manual = await s.inject(id, fac, { title: 'Phone call', body: 'The CEO is on line 2' });
    expect(manual).toMatchObject({ kind: 'inject', title: 'Phone call' });
  });

  it('records first greens once and logs them as check entries', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    clock += minutes(2);
    await s.score();
    script.passing.add('contain');
    clock += minutes(1);
    await s.score();
    clock += minutes(1);
    await s.score();
    const view = await s.view(id, fac);
    expect(view.scoreboard.find((r) => r.step === 'contain')).toMatchObject({ tMs: minutes(3), phase: 'Containment, Eradication & Recovery' });
    expect(view.scoreboard.find((r) => r.step === 'eradicate')?.passedAt).toBeNull();
    expect(view.log.filter((e) => e.kind === 'check').map((e) => e.tMs)).toEqual([minutes(3)]);
  });

  it('survives a restart: the log and clock come back from the database and no inject fires twice', async () => {
    const first = service();
    const { id, fac, alice } = await created(first);
    await first.control(id, fac, 'start');
    clock += minutes(1);
    await first.tick();
    await first.post(id, alice, 'note', 'before the restart');
    // A crash in the middle of firing `management` leaves it `firing`: it must never run again.
    await store.run("UPDATE drill_injects SET status = 'firing' WHERE drill_id = ? AND inject_id = 'management'", [id]);
    const before = (await first.view(id, fac)).log;

    clock += minutes(4); // the server was down for a while; the drill clock kept running
    const second = service();
    await second.resume();
    await second.tick();
    const after = await second.view(id, fac);
    expect(after.log.slice(0, before.length)).toEqual(before);
    expect(after.clock.elapsedMs).toBe(minutes(5));
    const titles = after.log.filter((e) => e.kind === 'inject').map((e) => e.title);
    expect(titles.filter((t) => t === 'Incident declared')).toHaveLength(1);
    expect(titles.some((t) => t.startsWith('Management'))).toBe(false);
    expect(after.log.some((e) => e.title === 'A scripted inject was interrupted')).toBe(true);
    expect(script.attacks).toHaveLength(1); // escalate at 3m fired exactly once, after the restart

    await second.tick();
    await service().tick();
    expect((await second.view(id, fac)).log.filter((e) => e.kind === 'inject').length).toBe(titles.length);
  });

  it('reports preparation progress and refuses to start before the cluster is ready', async () => {
    let finish: (name: string) => void = () => {};
    script.runtime.prepare = async (_d, _seed, progress) => {
      progress('seeding: run the timeline...');
      return new Promise<string>((resolve) => (finish = resolve));
    };
    const s = service();
    const { drill, facilitatorToken } = await s.create({ scenario: 'compromised-web-app', durationMinutes: 10, roles: ['Scribe'] });
    const fac = { facilitatorToken };
    // Progress is written in the background: polled, not raced.
    await vi.waitFor(async () => expect((await s.view(drill.id, fac)).cluster).toEqual({ status: 'preparing', message: 'seeding: run the timeline...' }), { timeout: 10_000 });
    await expect(s.control(drill.id, fac, 'start')).rejects.toMatchObject({ status: 409 });
    finish('drill-cluster-2');
    await s.prepared(drill.id);
    expect((await s.view(drill.id, fac)).cluster.status).toBe('ready');
    expect((await s.control(drill.id, fac, 'start')).state).toBe('running');
  });

  it('marks expectations, ends the drill and builds the report once', async () => {
    const s = service();
    const { id, fac, alice } = await created(s);
    await s.control(id, fac, 'start');
    await s.markExpectation(id, fac, 'ic-named', true);
    await expect(s.report(id)).rejects.toMatchObject({ status: 409 });
    clock += minutes(2);
    await s.control(id, fac, 'end');
    const report = await s.report(id);
    expect(report.expectations.find((e) => e.id === 'ic-named')?.met).toBe(true);
    expect(report.drill.elapsedMs).toBe(minutes(2));
    expect((await s.view(id, alice)).state).toBe('ended');
    await expect(s.post(id, alice, 'note', 'too late')).rejects.toMatchObject({ status: 409 });
    expect(await s.report(id)).toEqual(report);
  });

  it('a normal end deletes the cluster and says so, not "failed"', async () => {
    const released: string[] = [];
    script.runtime.release = async (name) => void released.push(name);
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    await s.control(id, fac, 'end');
    expect(released).toEqual(['drill-cluster-1']);
    expect((await s.view(id, fac)).cluster).toEqual({ status: 'deleted', message: 'the drill ended and its cluster was deleted' });
  });

  it('a scoreboard run in flight when the drill ends does not mark its deleted cluster "failed"', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    // The scoreboard asks whether the cluster exists; the answer comes after the end deleted it.
    let answer!: (exists: boolean) => void;
    let asked!: () => void;
    const askedOnce = new Promise<void>((resolve) => (asked = resolve));
    script.runtime.exists = () => {
      asked();
      return new Promise<boolean>((resolve) => (answer = resolve));
    };
    const scoring = s.score();
    await askedOnce;
    await s.control(id, fac, 'end');
    answer(false);
    await scoring;
    expect((await s.view(id, fac)).cluster).toEqual({ status: 'deleted', message: 'the drill ended and its cluster was deleted' });
  });

  it('ending a drill cancels its running checks, and nothing they find afterwards is recorded', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    const signals: Array<AbortSignal | undefined> = [];
    let finish!: () => void;
    let entered!: () => void;
    const evaluating = new Promise<void>((resolve) => (entered = resolve));
    script.runtime.evaluate = (_c, _d, step, _w, _a, signal) => {
      signals.push(signal);
      entered();
      // A check that would pass, were it allowed to finish after the end.
      return new Promise<CheckResult>((resolve) => (finish = () => resolve({ passed: true, score: 1, criteria: [{ id: step, passed: true, message: 'ok' }] })));
    };
    const scoring = s.score();
    await evaluating;
    await s.control(id, fac, 'end');
    expect(signals[0]?.aborted, 'the check is told the drill ended').toBe(true);
    finish();
    await scoring;
    const view = await s.view(id, fac);
    expect(view.scoreboard.every((row) => row.passedAt === null)).toBe(true);
    expect(view.log.filter((e) => e.kind === 'check')).toEqual([]);
    expect(view.cluster.status).toBe('deleted');
  });
});
