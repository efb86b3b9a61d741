import { describe, expect, it } from 'vitest';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openStore } from '../store/index.ts';
import type { SignedIn } from './oidc-client.ts';
import { completeSignIn } from './sign-in.ts';
import { sqliteStore } from '../store/sqlite-store.ts';

function setup() {
  const store = openStore(':memory:', allMigrations);
  const learners = learnerService({ store: sqliteStore(store) });
  const identities = identityService({ store: sqliteStore(store) });
  const deps = { learners, identities, merge: { store, endLabRun: async () => {} } };
  const attempt = (learner: string, id: string) =>
    store.prepare("INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at, submitted_at) VALUES (?, ?, 'q', 'h', 's', '[]', 'now', 'now')").run(id, learner);
  const ownerOf = (id: string) => (store.prepare('SELECT learner_id FROM quiz_attempts WHERE id = ?').get(id) as { learner_id: string }).learner_id;
  return { store, learners, identities, deps, attempt, ownerOf };
}
const as = (subject: string, displayName?: string): SignedIn => ({ identity: { kind: 'oidc', issuer: 'https://idp.example', subject, email: `${subject}@example.org` }, displayName, returnTo: '/' });

describe('what a sign-in does to the browser\'s learner', () => {
  it('a first sign-in links the identity to the anonymous learner, who keeps everything and gets the name; the old session ends', async () => {
    const { learners, identities, deps, attempt, ownerOf } = setup();
    const { learner, token } = await learners.create();
    attempt(learner.id, 'a1');
    const outcome = await completeSignIn(deps, as('ada', 'Ada Lovelace'), token);
    expect(outcome.learnerId).toBe(learner.id);
    expect(outcome.merged).toBeUndefined();
    expect(ownerOf('a1')).toBe(learner.id);
    expect(await identities.learnerOf(as('ada').identity)).toBe(learner.id);
    expect((await learners.get(learner.id))?.displayName).toBe('Ada Lovelace');
    expect(await learners.fromSession(token)).toBeUndefined();
    expect((await learners.fromSession(outcome.token))?.id).toBe(learner.id);
  });

  it('a known identity: the browser switches to the account and the anonymous learner\'s progress is merged; a chosen name stays', async () => {
    const { learners, deps, attempt, ownerOf } = setup();
    const first = await learners.create('Countess');
    await completeSignIn(deps, as('ada', 'Ada Lovelace'), first.token);
    const anon = await learners.create();
    attempt(anon.learner.id, 'a2');
    const outcome = await completeSignIn(deps, as('ada', 'Ada Lovelace'), anon.token);
    expect(outcome.learnerId).toBe(first.learner.id);
    expect(outcome.merged).toMatchObject({ quizAttemptsMoved: 1 });
    expect(ownerOf('a2')).toBe(first.learner.id);
    expect((await learners.get(first.learner.id))?.displayName).toBe('Countess');
  });

  it('someone else signed in on this browser: nothing of theirs moves; a new person gets a learner of their own', async () => {
    const { learners, deps, attempt, ownerOf } = setup();
    const grace = await completeSignIn(deps, as('grace'), (await learners.create()).token);
    attempt(grace.learnerId, 'g1');
    // Ada signs in on Grace's browser without Grace signing out first.
    const ada = await completeSignIn(deps, as('ada'), grace.token);
    expect(ada.learnerId).not.toBe(grace.learnerId);
    expect(ada.merged).toBeUndefined();
    expect(ownerOf('g1')).toBe(grace.learnerId);
    // And back: Grace again, from Ada's session: Ada's account is not merged into Grace's.
    const again = await completeSignIn(deps, as('grace'), ada.token);
    expect(again.learnerId).toBe(grace.learnerId);
    expect(again.merged).toBeUndefined();
  });

  it('no session at all: a new learner for a new identity, the account for a known one', async () => {
    const { deps } = setup();
    const first = await completeSignIn(deps, as('alan'), undefined);
    const second = await completeSignIn(deps, as('alan'), undefined);
    expect(second.learnerId).toBe(first.learnerId);
  });
});
