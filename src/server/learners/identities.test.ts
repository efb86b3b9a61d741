import { describe, expect, it } from 'vitest';
import { allMigrations, openStore } from '../store/index.ts';
import { identityService } from './identities.ts';
import { learnerService } from './learners.ts';

function setup() {
  const store = openStore(':memory:', allMigrations);
  return { store, learners: learnerService({ store }), identities: identityService({ store, clock: () => new Date('2026-12-07T10:00:00.000Z') }) };
}

describe('learner identities', () => {
  it('links an identity once: a second learner cannot take it, and the same subject at another issuer is another identity', () => {
    const { learners, identities } = setup();
    const a = learners.create().learner.id;
    const b = learners.create().learner.id;
    const alice = { kind: 'oidc', issuer: 'https://idp.example', subject: 'alice' } as const;
    expect(identities.learnerOf(alice)).toBeUndefined();
    expect(identities.link(a, { ...alice, email: 'alice@example.org' })).toBe(true);
    expect(identities.link(b, alice)).toBe(false);
    expect(identities.learnerOf(alice)).toBe(a);
    expect(identities.learnerOf({ ...alice, issuer: 'https://other.example' })).toBeUndefined();
    expect(identities.learnerOf({ ...alice, kind: 'lti' })).toBeUndefined();
    expect(identities.identitiesOf(a)).toEqual([{ ...alice, email: 'alice@example.org' }]);
    expect(identities.identitiesOf(b)).toEqual([]);
  });

  it('a new session belongs to the learner; an ended one no longer answers', () => {
    const { learners } = setup();
    const { learner, token: first } = learners.create('Ana');
    const second = learners.startSession(learner.id);
    expect(second).not.toBe(first);
    expect(learners.fromSession(second)?.id).toBe(learner.id);
    learners.endSession(first);
    expect(learners.fromSession(first)).toBeUndefined();
    expect(learners.fromSession(second)?.id).toBe(learner.id);
    learners.endSession('not a token');
  });
});
