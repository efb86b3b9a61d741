import { beforeAll, describe, expect, it } from 'vitest';
import { roleService } from '../instructors/roles.ts';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openStore } from '../store/index.ts';
import { classInstructor, manages } from './instructor.ts';
import { sqliteStore } from '../store/sqlite-store.ts';

const TOKEN = 'a-long-instructor-token-of-forty-characters!';

describe('classInstructor: the one check of who runs classes', () => {
  const store = openStore(':memory:', allMigrations);
  const learners = learnerService({ store: sqliteStore(store) });
  const roles = roleService({ store: sqliteStore(store) });
  const identities = identityService({ store: sqliteStore(store) });
  const deps = { instructorToken: TOKEN, learners, roles };
  let learner: { id: string };
  let token: string;
  beforeAll(async () => {
    ({ learner, token } = await learners.create('Instructor'));
  });
  const signedIn = async (name: string, role?: 'instructor' | 'operator') => {
    const made = await learners.create(name);
    await identities.link(made.learner.id, { kind: 'oidc', issuer: 'https://idp.example', subject: name });
    if (role) await roles.grant(made.learner.id, role, 'test');
    return made;
  };

  it('the token by cookie or Bearer is the operator, named by their learner cookie or "operator"', async () => {
    expect(await classInstructor(deps, { authorization: undefined, instructorCookie: TOKEN, sessionCookie: token })).toEqual({ id: learner.id, operator: true });
    expect(await classInstructor(deps, { authorization: `Bearer ${TOKEN}`, instructorCookie: undefined, sessionCookie: undefined })).toEqual({ id: 'operator', operator: true });
    expect(await classInstructor(deps, { authorization: `Bearer ${TOKEN}`, instructorCookie: undefined, sessionCookie: 'forged' })).toEqual({ id: 'operator', operator: true });
  });

  it('a signed-in instructor runs their own classes; a signed-in operator every class', async () => {
    const ines = await signedIn('ines', 'instructor');
    const olga = await signedIn('olga', 'operator');
    const mine = (await classInstructor(deps, { authorization: undefined, instructorCookie: undefined, sessionCookie: ines.token }))!;
    expect(mine).toEqual({ id: ines.learner.id, operator: false });
    expect(manages(mine, { createdBy: ines.learner.id })).toBe(true);
    expect(manages(mine, { createdBy: olga.learner.id })).toBe(false);
    expect(manages(mine, { createdBy: 'operator' })).toBe(false);
    const all = (await classInstructor(deps, { authorization: undefined, instructorCookie: undefined, sessionCookie: olga.token }))!;
    expect(all).toEqual({ id: olga.learner.id, operator: true });
    expect(manages(all, { createdBy: ines.learner.id })).toBe(true);
  });

  it('anything else is nobody: a learner cookie alone, a signed-in learner without a role, a wrong or empty token, a malformed header', async () => {
    const plain = await signedIn('pat');
    for (const credentials of [
      { authorization: undefined, instructorCookie: undefined, sessionCookie: token },
      { authorization: undefined, instructorCookie: undefined, sessionCookie: plain.token },
      { authorization: 'Bearer wrong', instructorCookie: 'wrong', sessionCookie: token },
      { authorization: 'Bearer ', instructorCookie: '', sessionCookie: undefined },
      { authorization: 'Basic \u0000\u00ff', instructorCookie: undefined, sessionCookie: undefined },
    ]) {
      expect(await classInstructor(deps, credentials)).toBeUndefined();
    }
  });
});
