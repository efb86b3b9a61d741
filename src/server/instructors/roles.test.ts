import type { AstroCookies } from 'astro';
import { describe, expect, it } from 'vitest';
import { identityService } from '../learners/identities.ts';
import { learnerService, SESSION_COOKIE } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { accessFrom, headersAccess, instructorPageAccess, requestAccess } from './access.ts';
import { roleService, type Role } from './roles.ts';
import { INSTRUCTOR_COOKIE } from './token.ts';

const TOKEN = 'an-instructor-token-long-enough-to-be-one';

const open = openedPerTest();

async function setup(backend: TestBackend) {
  const store = await open(backend);
  const learners = learnerService({ store });
  const identities = identityService({ store });
  const roles = roleService({ store, clock: () => new Date('2026-12-07T10:00:00Z') });
  const signedIn = async (name: string, email: string) => {
    const { learner, token } = await learners.create(name);
    await identities.link(learner.id, { kind: 'oidc', issuer: 'https://idp.example', subject: name, email });
    return { id: learner.id, token };
  };
  return { store, learners, identities, roles, signedIn, deps: { learners, roles, instructorToken: TOKEN } };
}

const jar = (values: Record<string, string>) => ({ get: (name: string) => (name in values ? { value: values[name]! } : undefined), set: () => {} }) as unknown as AstroCookies;
const url = new URL('http://irlab.test/instructor');

describe.each(testStores())('roles on $name', (backend) => {
  it('only a signed-in account holds a role; granting twice is one grant; revoking takes it back', async () => {
    const { learners, roles, signedIn } = await setup(backend);
    const anon = (await learners.create()).learner.id;
    await expect(roles.grant(anon, 'instructor', 'x')).rejects.toThrow(/only a signed-in account can hold a role/);
    await expect(roles.grant(anon, 'king' as Role, 'x')).rejects.toThrow(/there is no role "king"/);
    const ana = await signedIn('Ana', 'ana@example.org');
    await roles.grant(ana.id, 'instructor', 'x');
    await roles.grant(ana.id, 'instructor', 'y');
    expect(await roles.rolesOf(ana.id)).toEqual(['instructor']);
    await roles.revoke(ana.id, 'instructor');
    expect(await roles.rolesOf(ana.id)).toEqual([]);
  });

  it('lists signed-in accounts only, by name, with e-mails and roles', async () => {
    const { learners, roles, signedIn } = await setup(backend);
    await learners.create('Anonymous Annie');
    const zoe = await signedIn('Zoe', 'zoe@example.org');
    const ben = await signedIn('Ben', 'ben@example.org');
    await roles.grant(zoe.id, 'operator', 'instructor-token');
    await roles.grant(zoe.id, 'instructor', zoe.id);
    expect(await roles.accounts()).toEqual([
      { learnerId: ben.id, displayName: 'Ben', emails: ['ben@example.org'], roles: [] },
      { learnerId: zoe.id, displayName: 'Zoe', emails: ['zoe@example.org'], roles: ['instructor', 'operator'] },
    ]);
  });
});

describe.each(testStores())('who may act as instructor or operator on $name', (backend) => {
  it('an operator is an instructor; the token counts as operator; a learner is neither', async () => {
    expect(accessFrom(undefined, false, [], false)).toMatchObject({ instructor: false, operator: false });
    expect(accessFrom(undefined, true, ['instructor'], false)).toMatchObject({ instructor: true, operator: false });
    expect(accessFrom(undefined, true, ['operator'], false)).toMatchObject({ instructor: true, operator: true });
    expect(accessFrom(undefined, false, [], true)).toMatchObject({ instructor: true, operator: true });
  });

  it('reads the session cookie and the token: a role granted opens the instructor pages, the token still does, a guess does not', async () => {
    const { roles, signedIn, deps } = await setup(backend);
    const ana = await signedIn('Ana', 'ana@example.org');
    const request = new Request(url);
    expect(await requestAccess(deps, request, jar({ [SESSION_COOKIE]: ana.token }))).toMatchObject({ signedIn: true, instructor: false });
    expect(await instructorPageAccess(deps, request, url, jar({ [SESSION_COOKIE]: ana.token }))).toMatchObject({ allowed: false });
    await roles.grant(ana.id, 'instructor', 'test');
    expect(await instructorPageAccess(deps, request, url, jar({ [SESSION_COOKIE]: ana.token }))).toMatchObject({ allowed: true });
    expect(await instructorPageAccess(deps, request, url, jar({ [SESSION_COOKIE]: ana.token }), 'operator')).toMatchObject({ allowed: false });
    expect(await instructorPageAccess(deps, request, url, jar({ [INSTRUCTOR_COOKIE]: TOKEN }))).toMatchObject({ allowed: true });
    expect(await instructorPageAccess(deps, new Request(url, { headers: { authorization: `Bearer ${TOKEN}` } }), url, jar({}), 'operator')).toMatchObject({ allowed: true });
    expect(await instructorPageAccess(deps, request, url, jar({ [INSTRUCTOR_COOKIE]: 'guess', [SESSION_COOKIE]: 'x'.repeat(43) }))).toMatchObject({ allowed: false });
  });

  it('irlab\'s own routes ask with raw headers: the same answers', async () => {
    const { roles, signedIn, deps } = await setup(backend);
    const ana = await signedIn('Ana', 'ana@example.org');
    await roles.grant(ana.id, 'instructor', 'test');
    expect(await headersAccess(deps, { cookie: `theme=dark; ${SESSION_COOKIE}=${ana.token}` })).toMatchObject({ learner: { id: ana.id }, instructor: true, operator: false });
    expect(await headersAccess(deps, { cookie: `${INSTRUCTOR_COOKIE}=${encodeURIComponent(TOKEN)}` })).toMatchObject({ learner: undefined, operator: true });
    expect(await headersAccess(deps, { authorization: `Bearer ${TOKEN}` })).toMatchObject({ operator: true });
    expect(await headersAccess(deps, { cookie: `${SESSION_COOKIE}=%E0%A4%A; =x; junk`, authorization: 'Bearer nope' })).toMatchObject({ learner: undefined, instructor: false });
  });

  it('a role left on a learner who is no longer signed in (identity gone) opens nothing', async () => {
    const { store, roles, signedIn, deps } = await setup(backend);
    const ana = await signedIn('Ana', 'ana@example.org');
    await roles.grant(ana.id, 'operator', 'test');
    await store.run('DELETE FROM learner_identities WHERE learner_id = ?', [ana.id]);
    expect(await requestAccess(deps, new Request(url), jar({ [SESSION_COOKIE]: ana.token }))).toMatchObject({ signedIn: false, roles: [], instructor: false, operator: false });
  });
});
