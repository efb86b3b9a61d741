/**
 * The identities learners sign in with (OpenID Connect, an LMS launch, a join code) and the
 * learner each one belongs to. Sign-in flows look the identity up, link it to the browser's
 * learner the first time, and hand the browser a new session for that learner.
 */
import type { Store } from '../store/database.ts';

export type IdentityKind = 'oidc' | 'lti' | 'join-code';

export interface Identity {
  kind: IdentityKind;
  /** The OIDC issuer, the LMS platform's issuer, or the class of a join code. */
  issuer: string;
  /** The issuer's stable id for the person (`sub`), never an e-mail address. */
  subject: string;
  email?: string | undefined;
}

export function identityService({ store, clock = () => new Date() }: { store: Store; clock?: () => Date }) {
  return {
    /** The learner this identity belongs to (and notes that it was seen), or undefined. */
    learnerOf(identity: Identity): string | undefined {
      const row = store.prepare('SELECT learner_id FROM learner_identities WHERE kind = ? AND issuer = ? AND subject = ?').get(identity.kind, identity.issuer, identity.subject) as
        | { learner_id: string }
        | undefined;
      if (!row) return undefined;
      store
        .prepare('UPDATE learner_identities SET last_seen_at = ?, email = coalesce(?, email) WHERE kind = ? AND issuer = ? AND subject = ?')
        .run(clock().toISOString(), identity.email ?? null, identity.kind, identity.issuer, identity.subject);
      return row.learner_id;
    },

    /** Links an identity to a learner; false when it already belongs to one (that link stays). */
    link(learnerId: string, identity: Identity): boolean {
      const now = clock().toISOString();
      const result = store
        .prepare('INSERT OR IGNORE INTO learner_identities (kind, issuer, subject, learner_id, email, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(identity.kind, identity.issuer, identity.subject, learnerId, identity.email ?? null, now, now);
      return Number(result.changes) === 1;
    },

    /** Every identity of a learner (the account page, the instructor's roster). */
    identitiesOf(learnerId: string): Identity[] {
      const rows = store.prepare('SELECT kind, issuer, subject, email FROM learner_identities WHERE learner_id = ? ORDER BY created_at').all(learnerId) as Array<{
        kind: IdentityKind;
        issuer: string;
        subject: string;
        email: string | null;
      }>;
      return rows.map((r) => ({ kind: r.kind, issuer: r.issuer, subject: r.subject, ...(r.email ? { email: r.email } : {}) }));
    },
  };
}

export type IdentityService = ReturnType<typeof identityService>;
