// What two people (or a person and the drill clock) doing the same thing at the same moment make
// of a drill, on SQLite and PostgreSQL: the async store interleaves requests at every await, so
// each of these is decided by one conditional write, never by a read before it. Each test issues
// its requests together and would fail on a check-then-write.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';
import type { LoadedDrill } from './load.ts';
import { loadDrills } from './project-drills.ts';
import type { AttackOutcome, DrillRuntime } from './runtime.ts';
import { drillService, type DrillService } from './service.ts';

let drills: LoadedDrill[];
beforeAll(async () => {
  drills = await loadDrills(process.cwd());
});

const minutes = (n: number) => n * 60_000;

/** The HTTP status each request would answer with (200 when it resolved), sorted. */
const statuses = (results: PromiseSettledResult<unknown>[]) =>
  results.map((r) => (r.status === 'fulfilled' ? 200 : ((r.reason as { status?: number }).status ?? 500))).sort((a, b) => a - b);

describe.each(testStores())('drills under concurrent requests on $name', (backend) => {
  const open = openedPerTest();
  let store: SqlStore;
  let clock: number;
  let released: string[];
  let attacks: number;
  let passing: Set<string>;
  const runtime: DrillRuntime = {
    prepare: async () => 'drill-cluster-race',
    exists: async () => true,
    values: async () => ({ compromisedPodIp: '10.244.0.7' }),
    evaluate: async (_c, _d, step) => ({ passed: passing.has(step), score: passing.has(step) ? 1 : 0, criteria: [{ id: step, passed: passing.has(step), message: 'checked' }] }),
    attack: async (_c, _d, steps) => {
      attacks++;
      return steps.map((s): AttackOutcome => ({ technique: null, note: null, username: 'attacker', sourceIP: '10.244.0.7', userAgent: 'curl', verb: s.request.verb, kind: s.request.kind, namespace: null, name: null, status: 200, auditId: null, error: null }));
    },
    participantKubeconfig: async () => '/dev/null',
    auditEvents: async () => [],
    auditLogPath: async () => '/dev/null',
    answerKey: async () => Promise.reject(new Error('no answer key in this test')),
    release: async (name) => void released.push(name),
  };
  const service = (maxLive?: number): DrillService => drillService({ store, drills: async () => drills, runtime, now: () => clock, ...(maxLive ? { maxLive } : {}) });

  beforeEach(async () => {
    store = await open(backend);
    clock = Date.parse('2026-11-27T20:00:00Z');
    released = [];
    attacks = 0;
    passing = new Set();
  });

  async function created(s: DrillService) {
    const { drill, facilitatorToken } = await s.create({ scenario: 'compromised-web-app', durationMinutes: 30, roles: ['Scribe'] });
    await s.prepared(drill.id);
    return { id: drill.id, code: drill.code, fac: { facilitatorToken } };
  }
  const learner = async () => (await learnerService({ store }).create()).learner.id;
  const titled = async (s: DrillService, id: string, fac: { facilitatorToken: string }, test: (title: string) => boolean) =>
    (await s.view(id, fac)).log.filter((e) => test(e.title));

  it('two people taking one name at once, in any case: one joins, the other is told to pick another', async () => {
    const s = service();
    const { id, code, fac } = await created(s);
    const [ann, other] = [await learner(), await learner()];
    const results = await Promise.allSettled([s.join(code, ann, 'Alice', 'Scribe'), s.join(code, other, 'alice', 'Scribe')]);
    expect(statuses(results)).toEqual([200, 409]);
    expect((await s.view(id, fac)).participants).toHaveLength(1);
    expect(await titled(s, id, fac, (t) => / joined$/i.test(t))).toHaveLength(1);
  });

  it('a learner joining three times at once (a double click, two tabs) is one participant, logged once', async () => {
    const s = service();
    const { id, code, fac } = await created(s);
    const ann = await learner();
    const joins = await Promise.all([1, 2, 3].map(() => s.join(code, ann, 'Ann', 'Scribe')));
    expect(new Set(joins.map((j) => j.participant.id)).size).toBe(1);
    expect((await s.view(id, fac)).participants).toHaveLength(1);
    expect(await titled(s, id, fac, (t) => t === 'Ann joined')).toHaveLength(1);
  });

  it('a second pause at the same moment is refused and logged never; two fast-forwards both count', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    clock += minutes(1);
    expect(statuses(await Promise.allSettled([s.control(id, fac, 'pause'), s.control(id, fac, 'pause')]))).toEqual([200, 409]);
    expect(await titled(s, id, fac, (t) => t === 'Drill paused')).toHaveLength(1);
    await s.control(id, fac, 'resume');
    expect(statuses(await Promise.allSettled([s.control(id, fac, 'fast-forward', 2), s.control(id, fac, 'fast-forward', 2)]))).toEqual([200, 200]);
    const view = await s.view(id, fac);
    expect(view.clock.elapsedMs).toBe(minutes(5));
    expect(view.log.filter((e) => e.title === 'Clock fast-forwarded by 2 min')).toHaveLength(2);
  });

  it('two facilitator tabs ending the drill at once end it once: one report, one deletion of its cluster', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    expect(statuses(await Promise.allSettled([s.control(id, fac, 'end'), s.control(id, fac, 'end')]))).toEqual([200, 409]);
    expect(released).toEqual(['drill-cluster-race']);
    expect(await titled(s, id, fac, (t) => t === 'Drill ended')).toHaveLength(1);
    expect((await s.view(id, fac)).state).toBe('ended');
  });

  it('an inject fired by two clicks while the clock reaches it fires once; the second click hears it already has', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    clock += minutes(3); // escalate (an attack) is due at 3m
    const results = await Promise.allSettled([s.inject(id, fac, { injectId: 'escalate' }), s.inject(id, fac, { injectId: 'escalate' }), s.tick()]);
    const clicks = results.slice(0, 2);
    expect(clicks.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
    expect(clicks.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.status)).toEqual(clicks.filter((r) => r.status === 'rejected').map(() => 409));
    expect(attacks).toBe(1);
    const log = (await s.view(id, fac)).log;
    expect(log.filter((e) => e.kind === 'attack')).toHaveLength(1);
    // brief (0m), soc-alert (1m) and escalate (3m), each once.
    expect(log.filter((e) => e.kind === 'inject')).toHaveLength(3);
  });

  it('two scoreboard passes at once log a step\'s first green once', async () => {
    const s = service();
    const { id, fac } = await created(s);
    await s.control(id, fac, 'start');
    passing.add('contain');
    clock += minutes(2);
    await Promise.all([s.score(), s.score(), s.score()]);
    expect((await s.view(id, fac)).log.filter((e) => e.kind === 'check')).toHaveLength(1);
  });

  it('two servers resuming at once mark an inject a crash cut short failed, and log it, once', async () => {
    const { id, fac } = await created(service());
    await store.run("UPDATE drill_injects SET status = 'firing' WHERE drill_id = ? AND inject_id = 'management'", [id]);
    await Promise.all([service().resume(), service().resume()]);
    const s = service();
    expect(await titled(s, id, fac, (t) => t === 'A scripted inject was interrupted')).toHaveLength(1);
    expect((await s.view(id, fac)).upcomingInjects?.map((i) => i.id)).not.toContain('management');
  });

  it('entries written at once get consecutive seqs, none lost, none repeated', async () => {
    const s = service();
    const { id, fac } = await created(s);
    const posted = await Promise.all(Array.from({ length: 24 }, (_, i) => s.post(id, fac, 'note', `note ${i}`)));
    expect(new Set(posted.map((e) => e.seq)).size).toBe(24);
    const seqs = (await s.view(id, fac)).log.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('drills created at the same moment never exceed the live budget', async () => {
    const s = service(2);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => s.create({ scenario: 'compromised-web-app', durationMinutes: 10, roles: ['Scribe'] })));
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.drill.id] : []));
    await Promise.all(made.map((id) => s.prepared(id)));
    expect(statuses(results)).toEqual([200, 200, 429, 429, 429]);
    expect(await store.get("SELECT COUNT(*) AS n FROM drills WHERE state != 'ended'")).toEqual({ n: 2 });
  });
});
