/**
 * What a verified sign-in does to the browser's learner. The identity known: the browser becomes
 * that account's learner (an anonymous learner's progress merged into it first). The identity new:
 * it is linked to the browser's learner, who keeps everything, unless that learner is already
 * someone else's account (another person signed in on this browser): then a new learner. Either
 * way the old session ends and a new one starts (a session fixed before sign-in is worth nothing).
 */
import type { IdentityService } from '../learners/identities.ts';
import type { LearnerService } from '../learners/learners.ts';
import { mergeLearner, type MergeDeps, type MergeReport } from './merge.ts';
import type { SignedIn } from './oidc-client.ts';

export interface SignInDeps {
  learners: LearnerService;
  identities: IdentityService;
  merge: MergeDeps;
}

export interface SignInOutcome {
  learnerId: string;
  /** The new session token for the cookie. */
  token: string;
  /** Present when an anonymous learner's progress was merged into the account. */
  merged?: MergeReport;
}

export async function completeSignIn({ learners, identities, merge }: SignInDeps, signed: SignedIn, sessionToken: string | undefined): Promise<SignInOutcome> {
  const current = await learners.fromSession(sessionToken);
  const currentIdentities = current ? await identities.identitiesOf(current.id) : [];
  let learnerId = await identities.learnerOf(signed.identity);
  let merged: MergeReport | undefined;
  if (learnerId) {
    // Only a learner nobody has claimed (no identity at all) is merged into the account.
    if (current && current.id !== learnerId && currentIdentities.length === 0) merged = await mergeLearner(merge, current.id, learnerId);
  } else {
    let target = current && !currentIdentities.some((i) => i.kind === 'oidc') ? current.id : undefined;
    if (!target) {
      const created = await learners.create();
      await learners.endSession(created.token);
      target = created.learner.id;
    }
    // A concurrent first sign-in of the same person may have linked it meanwhile: that link wins.
    learnerId = (await identities.link(target, signed.identity)) ? target : (await identities.learnerOf(signed.identity))!;
  }
  const learner = await learners.get(learnerId);
  if (learner && !learner.displayName && signed.displayName) await learners.setDisplayName(learnerId, signed.displayName);
  await learners.endSession(sessionToken);
  return { learnerId, token: await learners.startSession(learnerId), ...(merged ? { merged } : {}) };
}
