/**
 * The identities learners sign in with (OpenID Connect, an LMS launch, a join code) and the
 * learner each one belongs to. Sign-in flows look the identity up, link it to the browser's
 * learner the first time, and hand the browser a new session for that learner.
 */
import type { SqlStore } from '../store/sql-store.ts';

export type IdentityKind = 'oidc' | 'lti' | 'join-code';

export interface Identity {
  kind: IdentityKind;
  /** The OIDC issuer, the LMS platform's issuer, or the class of a join code. */
  issuer: string;
  /** The issuer's stable id for the person (`sub`), never an e-mail address. */
  subject: string;
  email?: string | undefined;
}

export function identityService({ store, clock = () => new Date() }: { store: SqlStore; clock?: () => Date }) {
  return {
    /** The learner this identity belongs to (and notes that it was seen), or undefined. */
    async learnerOf(identity: Identity): Promise<string | undefined> {
      const row = await store.get<{ learner_id: string }>('SELECT learner_id FROM learner_identities WHERE kind = ? AND issuer = ? AND subject = ?', [identity.kind, identity.issuer, identity.subject]);
      if (!row) return undefined;
      await store.run('UPDATE learner_identities SET last_seen_at = ?, email = coalesce(?, email) WHERE kind = ? AND issuer = ? AND subject = ?', [
        clock().toISOString(),
        identity.email ?? null,
        identity.kind,
        identity.issuer,
        identity.subject,
      ]);
      return row.learner_id;
    },

    /** Links an identity to a learner; false when it already belongs to one (that link stays). */
    async link(learnerId: string, identity: Identity): Promise<boolean> {
      const now = clock().toISOString();
      const result = await store.run(
        'INSERT INTO learner_identities (kind, issuer, subject, learner_id, email, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [identity.kind, identity.issuer, identity.subject, learnerId, identity.email ?? null, now, now],
      );
      return result.changes === 1;
    },

    /** Every identity of a learner (the account page, the instructor's roster). */
    async identitiesOf(learnerId: string): Promise<Identity[]> {
      const rows = await store.all<{ kind: IdentityKind; issuer: string; subject: string; email: string | null }>(
        'SELECT kind, issuer, subject, email FROM learner_identities WHERE learner_id = ? ORDER BY created_at',
        [learnerId],
      );
      return rows.map((r) => ({ kind: r.kind, issuer: r.issuer, subject: r.subject, ...(r.email ? { email: r.email } : {}) }));
    },
  };
}

export type IdentityService = ReturnType<typeof identityService>;
