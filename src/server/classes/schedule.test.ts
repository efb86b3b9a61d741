// A class's schedule (when it runs, how many to expect): set through the class API, bounded and
// refused clearly when wrong, and read back by every cell as the classes due (warm pools).
import type { APIContext } from 'astro';
// The pages' Locals (services), for the route module imported below.
import type {} from '../../env.d.ts';
import { describe, expect, it } from 'vitest';
import { POST, GET } from '../../pages/api/classes/[id]/index.ts';
import { roleService } from '../instructors/roles.ts';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { classService } from './classes.ts';
import { dueClasses, parseSchedule } from './schedule.ts';

const open = openedPerTest();
const NOW = new Date('2026-12-07T10:00:00.000Z');
const TOKEN = 'instructor-token-for-the-schedule-test-0123456789';

async function setup(backend: TestBackend, maxExpected = 1000) {
  const store = await open(backend);
  const learners = learnerService({ store });
  const identities = identityService({ store });
  const classes = classService({ store, learners, identities, clock: () => NOW });
  const services = { classes, learners, roles: roleService({ store }), db: store, instructorToken: TOKEN, config: { warmPlan: { maxExpected } } };
  const call = async (route: typeof POST, id: string, body?: unknown, token: string | null = TOKEN) => {
    const request = new Request(`http://irlab.test/api/classes/${id}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const context = { params: { id }, request, cookies: { get: () => undefined }, locals: { services } } as unknown as APIContext;
    const response = await route(context);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { store, classes, learners, call };
}

describe('a schedule as typed', () => {
  it('is {startsAt, minutes, expectedLearners} within bounds, or null', () => {
    expect(parseSchedule({ startsAt: '2026-12-08T09:00:00+01:00', minutes: 90, expectedLearners: 40 }, NOW)).toEqual({
      ok: true,
      value: { startsAt: '2026-12-08T08:00:00.000Z', endsAt: '2026-12-08T09:30:00.000Z', expectedLearners: 40 },
    });
    expect(parseSchedule(null, NOW)).toEqual({ ok: true, value: null });
    const refused: Array<[unknown, RegExp]> = [
      [undefined, /must be \{startsAt, minutes, expectedLearners\}/],
      ['tomorrow', /must be \{startsAt/],
      [[1], /must be \{startsAt/],
      [{ startsAt: '2026-12-08 09:00', minutes: 60, expectedLearners: 4 }, /with its zone/],
      [{ startsAt: '2026-02-31T09:00:00Z', minutes: 60, expectedLearners: 4 }, /not a real date/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 14, expectedLearners: 4 }, /at least 15/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 60.5, expectedLearners: 4 }, /whole number of minutes/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 7 * 24 * 60 + 1, expectedLearners: 4 }, /a week/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: '60', expectedLearners: 4 }, /"minutes" must be/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 60, expectedLearners: 0 }, /at least 1/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 60, expectedLearners: 1001 }, /at most 1000 .*IRLAB_CLASS_MAX_EXPECTED/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 60, expectedLearners: 1e300 }, /from 1 to 1000/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 60 }, /"expectedLearners" must be/],
      [{ startsAt: '2026-12-08T09:00:00Z', minutes: 60, expectedLearners: 4, pool: 99 }, /only startsAt, minutes and expectedLearners \(not pool\)/],
      [{ startsAt: '2026-12-06T09:59:00Z', minutes: 60, expectedLearners: 4 }, /more than a day in the past/],
      [{ startsAt: '2027-12-09T09:00:00Z', minutes: 60, expectedLearners: 4 }, /more than a year ahead/],
    ];
    for (const [input, message] of refused) {
      const parsed = parseSchedule(input, NOW, 1000);
      expect(parsed.ok, JSON.stringify(input)).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(message);
    }
  });
});

describe.each(testStores())('class schedules on $name', (backend) => {
  it('are set, shown and cleared through the class API, by an instructor only, and refused with 400 when wrong', async () => {
    const { classes, call } = await setup(backend, 200);
    const klass = await classes.create('Workshop', 'operator');
    expect(klass.schedule).toBeUndefined();
    const set = await call(POST, klass.id, { action: 'schedule', schedule: { startsAt: '2026-12-08T09:00:00Z', minutes: 120, expectedLearners: 40 } });
    expect(set.status).toBe(200);
    expect(set.body.schedule).toEqual({ startsAt: '2026-12-08T09:00:00.000Z', endsAt: '2026-12-08T11:00:00.000Z', expectedLearners: 40 });
    expect((await call(GET, klass.id)).body.schedule).toEqual(set.body.schedule);
    expect((await classes.list())[0]!.schedule).toEqual(set.body.schedule);

    // The operator's bound, a wrong shape, no token: refused, and the schedule unchanged.
    const tooMany = await call(POST, klass.id, { action: 'schedule', schedule: { startsAt: '2026-12-08T09:00:00Z', minutes: 120, expectedLearners: 201 } });
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toMatch(/at most 200/);
    expect((await call(POST, klass.id, { action: 'schedule', schedule: 'tomorrow' })).status).toBe(400);
    expect((await call(POST, klass.id, { action: 'schedule' })).status).toBe(400);
    expect((await call(POST, klass.id, { action: 'schedule', schedule: { startsAt: '2026-12-08T09:00:00Z', minutes: 120, expectedLearners: 4 } }, null)).status).toBe(401);
    expect((await classes.get(klass.id))!.schedule?.expectedLearners).toBe(40);

    const cleared = await call(POST, klass.id, { action: 'schedule', schedule: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.schedule).toBeUndefined();
    await classes.close(klass.id);
    expect((await call(POST, klass.id, { action: 'schedule', schedule: { startsAt: '2026-12-08T09:00:00Z', minutes: 60, expectedLearners: 4 } })).status).toBe(409);
  });

  it('make the classes due: from the lead time before the start to the end, open ones only, with their labs and who arrived', async () => {
    const { store, classes, learners } = await setup(backend);
    const at = (iso: string) => new Date(iso);
    const soon = await classes.create('Soon', 'operator');
    const later = await classes.create('Later', 'operator');
    const closed = await classes.create('Closed', 'operator');
    await classes.create('Unscheduled', 'operator');
    await classes.setSchedule(soon.id, { startsAt: '2026-12-07T10:30:00Z', minutes: 60, expectedLearners: 10 });
    await classes.setSchedule(later.id, { startsAt: '2026-12-07T12:00:00Z', minutes: 60, expectedLearners: 5 });
    await classes.setSchedule(closed.id, { startsAt: '2026-12-07T10:30:00Z', minutes: 60, expectedLearners: 5 });
    await classes.close(closed.id);
    await classes.assign(soon.id, 'lab', 'crashloop', undefined);
    await classes.assign(soon.id, 'quiz', 'basics', undefined);
    await classes.assign(soon.id, 'lab', 'dns', undefined);

    const lead = 30 * 60_000;
    expect((await dueClasses(store, at('2026-12-07T09:59:00Z'), lead)).map((c) => c.id)).toEqual([]);
    const due = await dueClasses(store, at('2026-12-07T10:00:00Z'), lead);
    expect(due).toEqual([{ id: soon.id, startsAt: Date.parse('2026-12-07T10:30:00Z'), endsAt: Date.parse('2026-12-07T11:30:00Z'), expectedLearners: 10, labs: ['crashloop', 'dns'], arrived: 0 }]);

    // Two members start labs after the start (one twice), one before it, a non-member after it.
    let runs = 0;
    const run = async (learnerId: string, startedAt: string) =>
      store.run("INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at, ended_at) VALUES (?, ?, 'crashloop', 'c', 'embedded', 's', ?, ?)", [`run_${++runs}`, learnerId, startedAt, startedAt]);
    const ana = await classes.join({ code: soon.joinCode, name: 'Ana', current: undefined });
    const bob = await classes.join({ code: soon.joinCode, name: 'Bob', current: undefined });
    const cy = await classes.join({ code: soon.joinCode, name: 'Cy', current: undefined });
    const stranger = (await learners.create('Stranger')).learner.id;
    await run(ana.learnerId, '2026-12-07T10:31:00.000Z');
    await run(ana.learnerId, '2026-12-07T10:40:00.000Z');
    await run(bob.learnerId, '2026-12-07T10:35:00.000Z');
    await run(cy.learnerId, '2026-12-07T10:10:00.000Z');
    await run(stranger, '2026-12-07T10:35:00.000Z');
    const running = await dueClasses(store, at('2026-12-07T11:29:00Z'), lead);
    expect(running.map((c) => [c.id, c.arrived])).toEqual([[soon.id, 2]]);
    expect((await dueClasses(store, at('2026-12-07T11:30:00Z'), lead)).map((c) => c.id)).toEqual([later.id]);
    expect((await dueClasses(store, at('2026-12-07T13:00:00Z'), lead)).map((c) => c.id)).toEqual([]);
  });
});
