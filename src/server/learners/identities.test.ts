import { describe, expect, it } from 'vitest';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';
import { identityService } from './identities.ts';
import { learnerService } from './learners.ts';

describe.each(testStores())('learner identities on $name', (backend) => {
  const open = openedPerTest();
  const setup = async () => {
    const store = await open(backend);
    return { store, learners: learnerService({ store }), identities: identityService({ store, clock: () => new Date('2026-12-07T10:00:00.000Z') }) };
  };

  it('links an identity once: a second learner cannot take it, and the same subject at another issuer is another identity', async () => {
    const { learners, identities } = await setup();
    const a = (await learners.create()).learner.id;
    const b = (await learners.create()).learner.id;
    const alice = { kind: 'oidc', issuer: 'https://idp.example', subject: 'alice' } as const;
    expect(await identities.learnerOf(alice)).toBeUndefined();
    expect(await identities.link(a, { ...alice, email: 'alice@example.org' })).toBe(true);
    expect(await identities.link(b, alice)).toBe(false);
    expect(await identities.learnerOf(alice)).toBe(a);
    expect(await identities.learnerOf({ ...alice, issuer: 'https://other.example' })).toBeUndefined();
    expect(await identities.learnerOf({ ...alice, kind: 'lti' })).toBeUndefined();
    expect(await identities.identitiesOf(a)).toEqual([{ ...alice, email: 'alice@example.org' }]);
    expect(await identities.identitiesOf(b)).toEqual([]);
  });

  it('a new session belongs to the learner; an ended one no longer answers', async () => {
    const { learners } = await setup();
    const { learner, token: first } = await learners.create('Ana');
    const second = await learners.startSession(learner.id);
    expect(second).not.toBe(first);
    expect((await learners.fromSession(second))?.id).toBe(learner.id);
    await learners.endSession(first);
    expect(await learners.fromSession(first)).toBeUndefined();
    expect((await learners.fromSession(second))?.id).toBe(learner.id);
    await learners.endSession('not a token');
  });
});
