import { describe, expect, it } from 'vitest';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { classService, ClassError } from './classes.ts';
import { formatJoinCode, JOIN_CODE_ALPHABET, newJoinCode, normaliseJoinCode } from './join-code.ts';
import { cleanMessage, cleanName } from './untrusted-text.ts';
import { httpStatusOf } from '../../lib/error-status.ts';

const open = openedPerTest();

async function setup(backend: TestBackend, pickCode?: (n: number) => number) {
  const store = await open(backend);
  const learners = learnerService({ store });
  const identities = identityService({ store });
  return { store, learners, identities, classes: classService({ store, learners, identities, clock: () => new Date('2026-12-07T10:00:00.000Z'), ...(pickCode ? { pickCode } : {}) }) };
}

async function statusOf(fn: () => unknown): Promise<number | undefined> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ClassError);
    return httpStatusOf(error);
  }
  return undefined;
}

describe('join codes', () => {
  it('draw 8 characters from an alphabet without look-alikes, uniformly', async () => {
    for (const ambiguous of '01ILO') expect(JOIN_CODE_ALPHABET).not.toContain(ambiguous);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) for (const c of newJoinCode()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect([...counts.keys()].sort().join('')).toBe([...JOIN_CODE_ALPHABET].sort().join(''));
    expect(newJoinCode(() => 0)).toBe('22222222');
    expect(formatJoinCode('ABCDEFGH')).toBe('ABCD-EFGH');
  });

  it('read what people type: case, spaces and dashes do not matter; anything else is no code', async () => {
    expect(normaliseJoinCode(' abcd-efgh ')).toBe('ABCDEFGH');
    expect(normaliseJoinCode('ab cd ef gh')).toBe('ABCDEFGH');
    for (const bad of ['ABCDEFG', 'ABCDEFGHJ', 'ABCD-EFG0', 'ABCDEFGI', 'ÄBCDEFGH', '', 42, null, undefined, 'A'.repeat(10_000)]) expect(normaliseJoinCode(bad)).toBeUndefined();
  });
});

describe('untrusted names and messages', () => {
  it('limit length and refuse control and invisible formatting characters', async () => {
    expect(cleanName('  Ana  ')).toEqual({ ok: true, value: 'Ana' });
    expect(cleanName('<b>Ana</b>')).toEqual({ ok: true, value: '<b>Ana</b>' }); // text, escaped where shown
    for (const bad of ['', '   ', 'A'.repeat(41), 'Ana\u0000', 'Ana\nBob', 'evil\u202egnp.exe', 'a\u200bb', 7]) expect(cleanName(bad).ok).toBe(false);
    expect(cleanMessage('line one\nline two')).toEqual({ ok: true, value: 'line one\nline two' });
    expect(cleanMessage('bell\u0007').ok).toBe(false);
    expect(cleanMessage('x'.repeat(501)).ok).toBe(false);
  });
});

describe.each(testStores())('classes on $name', (backend) => {
  it('create, rotate (the old code stops working) and close (nobody joins)', async () => {
    const { classes } = await setup(backend);
    const klass = await classes.create('Incident response, group A', 'operator');
    expect(klass.joinCode).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    const rotated = await classes.rotate(klass.id);
    expect(rotated.joinCode).not.toBe(klass.joinCode);
    expect(await statusOf(() => classes.join({ code: klass.joinCode, name: 'Ana', current: undefined }))).toBe(404);
    expect((await classes.join({ code: rotated.joinCode, name: 'Ana', current: undefined })).classId).toBe(klass.id);
    await classes.close(klass.id);
    expect(await statusOf(() => classes.join({ code: rotated.joinCode, name: 'Bob', current: undefined }))).toBe(404);
    expect(await statusOf(() => classes.rotate(klass.id))).toBe(409);
    expect(await statusOf(() => classes.create('', 'operator'))).toBe(400);
    expect(await statusOf(() => classes.setStuckAfter(klass.id, 0))).toBe(400);
    expect(await statusOf(() => classes.setStuckAfter('cls_nope', 60))).toBe(404);
  });

  it('a name and the code make a learner linked by a join-code identity; this browser is reused; names are unique per class', async () => {
    const { classes, learners, identities } = await setup(backend);
    const klass = await classes.create('Event', 'operator');
    const ana = await classes.join({ code: klass.joinCode.toLowerCase(), name: 'Ana', current: undefined });
    expect(ana.token).toBeDefined();
    expect((await learners.fromSession(ana.token))?.displayName).toBe('Ana');
    expect(await identities.identitiesOf(ana.learnerId)).toEqual([{ kind: 'join-code', issuer: klass.id, subject: expect.stringMatching(/^jc_/) }]);
    // Joining again from the same browser changes nothing.
    expect(await classes.join({ code: klass.joinCode, name: 'Ana', current: ana.learnerId })).toEqual({ classId: klass.id, learnerId: ana.learnerId, name: 'Ana' });
    // A browser with a learner of its own keeps it (its progress) and joins with it.
    const own = (await learners.create()).learner.id;
    const bob = await classes.join({ code: klass.joinCode, name: 'Bob', current: own });
    expect(bob.learnerId).toBe(own);
    expect(bob.token).toBeUndefined();
    expect(await statusOf(() => classes.join({ code: klass.joinCode, name: 'ana', current: undefined }))).toBe(409);
    expect((await classes.members(klass.id)).map((m) => m.name)).toEqual(['Ana', 'Bob']);
  });

  it('a second device rejoins only with the rejoin key shown at joining', async () => {
    const { classes } = await setup(backend);
    const klass = await classes.create('Event', 'operator');
    const ana = await classes.join({ code: klass.joinCode, name: 'Ana', current: undefined });
    expect(ana.rejoinKey).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    expect(await statusOf(() => classes.join({ code: klass.joinCode, name: 'Ana', rejoinKey: 'AAAA-AAAA', current: undefined }))).toBe(403);
    expect(await statusOf(() => classes.join({ code: klass.joinCode, name: 'Nobody', rejoinKey: ana.rejoinKey, current: undefined }))).toBe(403);
    const again = await classes.join({ code: klass.joinCode, name: 'ana', rejoinKey: ana.rejoinKey!.toLowerCase(), current: undefined });
    expect(again.learnerId).toBe(ana.learnerId);
    expect(again.token).toBeDefined();
    // A browser that is already Bob in this class switches to Ana with her key, not without it.
    const bob = await classes.join({ code: klass.joinCode, name: 'Bob', current: undefined });
    expect((await classes.join({ code: klass.joinCode, name: 'Ana', current: bob.learnerId })).learnerId).toBe(bob.learnerId);
    expect((await classes.join({ code: klass.joinCode, name: 'Ana', rejoinKey: ana.rejoinKey, current: bob.learnerId })).learnerId).toBe(ana.learnerId);
  });

  it('messages reach the one learner or the whole class, and stay dismissed', async () => {
    const { classes } = await setup(backend);
    const klass = await classes.create('Event', 'operator');
    const ana = await classes.join({ code: klass.joinCode, name: 'Ana', current: undefined });
    const bob = await classes.join({ code: klass.joinCode, name: 'Bob', current: undefined });
    const all = await classes.message(klass.id, undefined, 'Break at 11');
    await classes.message(klass.id, ana.learnerId, 'Look at step 2 again');
    expect((await classes.noticesFor(ana.learnerId)).map((n) => [n.text, n.toClass])).toEqual([['Break at 11', true], ['Look at step 2 again', false]]);
    expect((await classes.noticesFor(bob.learnerId)).map((n) => n.text)).toEqual(['Break at 11']);
    await classes.dismiss(bob.learnerId, all.id);
    expect(await classes.noticesFor(bob.learnerId)).toEqual([]);
    expect(await classes.noticesFor(ana.learnerId)).toHaveLength(2);
    expect(await statusOf(() => classes.dismiss(bob.learnerId, '../x'))).toBe(400);
    expect(await statusOf(() => classes.message(klass.id, 'lrn_stranger', 'hi'))).toBe(404);
    expect(await statusOf(() => classes.message(klass.id, undefined, '\u001b[2J'))).toBe(400);
  });

  it('members, assignments and messages made in the same millisecond keep the order they came in (not the ids\' order)', async () => {
    const { classes } = await setup(backend);
    const klass = await classes.create('Event', 'operator');
    const names = ['Zoe', 'Ana', 'Mia', 'Bob', 'Eve'];
    for (const name of names) await classes.join({ code: klass.joinCode, name, current: undefined });
    expect((await classes.members(klass.id)).map((m) => m.name)).toEqual(names);
    for (const slug of ['z-lab', 'a-lab', 'm-lab']) await classes.assign(klass.id, 'lab', slug, undefined);
    await classes.assign(klass.id, 'lab', 'z-lab', '2026-12-08T17:00:00.000Z'); // a new due date keeps its place
    expect((await classes.assignments(klass.id)).map((a) => [a.slug, a.dueAt])).toEqual([['z-lab', '2026-12-08T17:00:00.000Z'], ['a-lab', undefined], ['m-lab', undefined]]);
    const zoe = (await classes.members(klass.id))[0]!.learnerId;
    for (const text of ['third', 'first', 'second']) await classes.message(klass.id, undefined, text);
    expect((await classes.noticesFor(zoe)).map((n) => n.text)).toEqual(['third', 'first', 'second']);
  });

  it('one browser joining twice at once (a double submit) is one member, and neither request fails', async () => {
    const { classes, learners } = await setup(backend);
    const klass = await classes.create('Event', 'operator');
    const own = (await learners.create()).learner.id;
    const both = await Promise.all([classes.join({ code: klass.joinCode, name: 'Ana', current: own }), classes.join({ code: klass.joinCode, name: 'Ana', current: own })]);
    expect(both.map((j) => j.learnerId)).toEqual([own, own]);
    expect((await classes.members(klass.id)).map((m) => m.learnerId)).toEqual([own]);
  });

  it('a new class never takes a code an open class holds: the INSERT itself refuses it and a new code is drawn', async () => {
    let draws = 0;
    // The first two classes draw the same code (8 characters each); after that, random ones.
    const { classes } = await setup(backend, (n) => (draws++ < 16 ? 0 : Math.floor(Math.random() * n)));
    const [a, b] = [await classes.create('A', 'operator'), await classes.create('B', 'operator')];
    expect(a.joinCode).toBe('2222-2222');
    expect(b.joinCode).not.toBe(a.joinCode);
    expect((await classes.join({ code: a.joinCode, name: 'Ana', current: undefined })).classId).toBe(a.id);
  });
});
