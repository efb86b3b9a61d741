import { describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openStore } from '../store/index.ts';
import { classInstructor } from './instructor.ts';

const TOKEN = 'a-long-instructor-token-of-forty-characters!';

describe('classInstructor: the one check of who runs classes', () => {
  const learners = learnerService({ store: openStore(':memory:', allMigrations) });
  const { learner, token } = learners.create('Instructor');

  it('the token by cookie or Bearer makes an instructor, named by their learner cookie or "operator"', () => {
    expect(classInstructor(TOKEN, learners, { authorization: undefined, instructorCookie: TOKEN, sessionCookie: token })).toEqual({ id: learner.id });
    expect(classInstructor(TOKEN, learners, { authorization: `Bearer ${TOKEN}`, instructorCookie: undefined, sessionCookie: undefined })).toEqual({ id: 'operator' });
    expect(classInstructor(TOKEN, learners, { authorization: `Bearer ${TOKEN}`, instructorCookie: undefined, sessionCookie: 'forged' })).toEqual({ id: 'operator' });
  });

  it('anything else is nobody: a learner cookie alone, a wrong or empty token, a malformed header', () => {
    for (const credentials of [
      { authorization: undefined, instructorCookie: undefined, sessionCookie: token },
      { authorization: 'Bearer wrong', instructorCookie: 'wrong', sessionCookie: token },
      { authorization: 'Bearer ', instructorCookie: '', sessionCookie: undefined },
      { authorization: 'Basic \u0000\u00ff', instructorCookie: undefined, sessionCookie: undefined },
    ]) {
      expect(classInstructor(TOKEN, learners, credentials)).toBeUndefined();
    }
  });
});
