/**
 * Roles beyond learner (which everyone is): `instructor` (the instructor pages, later classes) and
 * `operator` (everything an instructor may, and making others instructors). Only a signed-in learner
 * (one with an OpenID Connect identity) holds a role: an anonymous cookie is nobody in particular.
 * The first operator is whoever signed in and presented the instructor token (the bootstrap).
 */
import type { Store } from '../store/database.ts';

export type Role = 'instructor' | 'operator';
export const ROLES: readonly Role[] = ['instructor', 'operator'];
/** Who granted the operator role through the bootstrap form. */
export const BOOTSTRAP_GRANTOR = 'instructor-token';

export interface Account {
  learnerId: string;
  displayName: string | undefined;
  emails: string[];
  roles: Role[];
}

export class RoleError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'RoleError';
    this.status = status;
  }
}

export function roleService({ store, clock = () => new Date() }: { store: Store; clock?: () => Date }) {
  const signedIn = (learnerId: string) => store.prepare("SELECT 1 FROM learner_identities WHERE learner_id = ? AND kind = 'oidc' LIMIT 1").get(learnerId) !== undefined;

  return {
    rolesOf(learnerId: string): Role[] {
      const rows = store.prepare('SELECT role FROM learner_roles WHERE learner_id = ? ORDER BY role').all(learnerId) as Array<{ role: Role }>;
      return rows.map((r) => r.role);
    },

    /** Whether the learner signed in with OpenID Connect (only they can hold a role). */
    signedIn,

    /** Grants a role to a signed-in learner; granting one they hold changes nothing. */
    grant(learnerId: string, role: Role, grantedBy: string): void {
      if (!ROLES.includes(role)) throw new RoleError(`there is no role "${String(role)}": choose instructor or operator`, 400);
      if (!signedIn(learnerId)) throw new RoleError('only a signed-in account can hold a role: that person signs in first, then an operator grants it', 409);
      store.prepare('INSERT OR IGNORE INTO learner_roles (learner_id, role, granted_at, granted_by) VALUES (?, ?, ?, ?)').run(learnerId, role, clock().toISOString(), grantedBy);
    },

    revoke(learnerId: string, role: Role): void {
      store.prepare('DELETE FROM learner_roles WHERE learner_id = ? AND role = ?').run(learnerId, role);
    },

    /** Every signed-in account with its name, e-mail addresses and roles (the operator's list). */
    accounts(): Account[] {
      const rows = store
        .prepare(
          `SELECT l.id, l.display_name, group_concat(DISTINCT i.email) AS emails, (SELECT group_concat(role) FROM learner_roles r WHERE r.learner_id = l.id) AS roles
           FROM learners l JOIN learner_identities i ON i.learner_id = l.id AND i.kind = 'oidc'
           GROUP BY l.id ORDER BY coalesce(l.display_name, min(i.email), l.id) COLLATE NOCASE`,
        )
        .all() as Array<{ id: string; display_name: string | null; emails: string | null; roles: string | null }>;
      return rows.map((r) => ({
        learnerId: r.id,
        displayName: r.display_name ?? undefined,
        emails: r.emails ? r.emails.split(',') : [],
        roles: (r.roles ? r.roles.split(',') : []).filter((x): x is Role => ROLES.includes(x as Role)).sort(),
      }));
    },
  };
}

export type RoleService = ReturnType<typeof roleService>;
