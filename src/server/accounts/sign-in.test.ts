import { describe, expect, it } from 'vitest';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import type { SignedIn } from './oidc-client.ts';
import { completeSignIn } from './sign-in.ts';

const open = openedPerTest();

async function setup(backend: TestBackend) {
  const store = await open(backend);
  const learners = learnerService({ store });
  const identities = identityService({ store });
  const deps = { learners, identities, merge: { store, endLabRun: async () => {} } };
  const attempt = (learner: string, id: string) =>
    store.run("INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at, submitted_at) VALUES (?, ?, 'q', 'h', 's', '[]', 'now', 'now')", [id, learner]);
  const ownerOf = async (id: string) => (await store.get<{ learner_id: string }>('SELECT learner_id FROM quiz_attempts WHERE id = ?', [id]))!.learner_id;
  return { store, learners, identities, deps, attempt, ownerOf };
}
const as = (subject: string, displayName?: string): SignedIn => ({ identity: { kind: 'oidc', issuer: 'https://idp.example', subject, email: `${subject}@example.org` }, displayName, returnTo: '/' });

describe.each(testStores())('what a sign-in does to the browser\'s learner on $name', (backend) => {
  it('a first sign-in links the identity to the anonymous learner, who keeps everything and gets the name; the old session ends', async () => {
    const { learners, identities, deps, attempt, ownerOf } = await setup(backend);
    const { learner, token } = await learners.create();
    await attempt(learner.id, 'a1');
    const outcome = await completeSignIn(deps, as('ada', 'Ada Lovelace'), token);
    expect(outcome.learnerId).toBe(learner.id);
    expect(outcome.merged).toBeUndefined();
    expect(await ownerOf('a1')).toBe(learner.id);
    expect(await identities.learnerOf(as('ada').identity)).toBe(learner.id);
    expect((await learners.get(learner.id))?.displayName).toBe('Ada Lovelace');
    expect(await learners.fromSession(token)).toBeUndefined();
    expect((await learners.fromSession(outcome.token))?.id).toBe(learner.id);
  });

  it('a known identity: the browser switches to the account and the anonymous learner\'s progress is merged; a chosen name stays', async () => {
    const { learners, deps, attempt, ownerOf } = await setup(backend);
    const first = await learners.create('Countess');
    await completeSignIn(deps, as('ada', 'Ada Lovelace'), first.token);
    const anon = await learners.create();
    await attempt(anon.learner.id, 'a2');
    const outcome = await completeSignIn(deps, as('ada', 'Ada Lovelace'), anon.token);
    expect(outcome.learnerId).toBe(first.learner.id);
    expect(outcome.merged).toMatchObject({ quizAttemptsMoved: 1 });
    expect(await ownerOf('a2')).toBe(first.learner.id);
    expect((await learners.get(first.learner.id))?.displayName).toBe('Countess');
  });

  it('someone else signed in on this browser: nothing of theirs moves; a new person gets a learner of their own', async () => {
    const { learners, deps, attempt, ownerOf } = await setup(backend);
    const grace = await completeSignIn(deps, as('grace'), (await learners.create()).token);
    await attempt(grace.learnerId, 'g1');
    // Ada signs in on Grace's browser without Grace signing out first.
    const ada = await completeSignIn(deps, as('ada'), grace.token);
    expect(ada.learnerId).not.toBe(grace.learnerId);
    expect(ada.merged).toBeUndefined();
    expect(await ownerOf('g1')).toBe(grace.learnerId);
    // And back: Grace again, from Ada's session: Ada's account is not merged into Grace's.
    const again = await completeSignIn(deps, as('grace'), ada.token);
    expect(again.learnerId).toBe(grace.learnerId);
    expect(again.merged).toBeUndefined();
  });

  it('no session at all: a new learner for a new identity, the account for a known one', async () => {
    const { deps } = await setup(backend);
    const first = await completeSignIn(deps, as('alan'), undefined);
    const second = await completeSignIn(deps, as('alan'), undefined);
    expect(second.learnerId).toBe(first.learnerId);
  });
});
