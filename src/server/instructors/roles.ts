/**
 * Roles beyond learner (which everyone is): `instructor` (the instructor pages, later classes) and
 * `operator` (everything an instructor may, and making others instructors). Only a signed-in learner
 * (one with an OpenID Connect identity) holds a role: an anonymous cookie is nobody in particular.
 * The first operator is whoever signed in and presented the instructor token (the bootstrap).
 */
import { StatusError } from '../../lib/error-status.ts';
import type { SqlStore } from '../store/sql-store.ts';

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

export class RoleError extends StatusError {
  constructor(message: string, status: number) {
    super(message, status);
    this.name = 'RoleError';
  }
}

export function roleService({ store, clock = () => new Date() }: { store: SqlStore; clock?: () => Date }) {
  const signedIn = async (learnerId: string): Promise<boolean> => (await store.get("SELECT 1 AS yes FROM learner_identities WHERE learner_id = ? AND kind = 'oidc' LIMIT 1", [learnerId])) !== undefined;

  return {
    async rolesOf(learnerId: string): Promise<Role[]> {
      const rows = await store.all<{ role: Role }>('SELECT role FROM learner_roles WHERE learner_id = ? ORDER BY role', [learnerId]);
      return rows.map((r) => r.role);
    },

    /** Whether the learner signed in with OpenID Connect (only they can hold a role). */
    signedIn,

    /** Grants a role to a signed-in learner; granting one they hold changes nothing. */
    async grant(learnerId: string, role: Role, grantedBy: string): Promise<void> {
      if (!ROLES.includes(role)) throw new RoleError(`there is no role "${String(role)}": choose instructor or operator`, 400);
      if (!(await signedIn(learnerId))) throw new RoleError('only a signed-in account can hold a role: that person signs in first, then an operator grants it', 409);
      await store.run('INSERT INTO learner_roles (learner_id, role, granted_at, granted_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [learnerId, role, clock().toISOString(), grantedBy]);
    },

    async revoke(learnerId: string, role: Role): Promise<void> {
      await store.run('DELETE FROM learner_roles WHERE learner_id = ? AND role = ?', [learnerId, role]);
    },

    /** Every signed-in account with its name, e-mail addresses and roles (the operator's list). */
    async accounts(): Promise<Account[]> {
      const { groupConcat } = store.dialect;
      const rows = await store.all<{ id: string; display_name: string | null; emails: string | null; roles: string | null }>(
        `SELECT l.id, l.display_name, ${groupConcat('i.email', { distinct: true })} AS emails, (SELECT ${groupConcat('r.role')} FROM learner_roles r WHERE r.learner_id = l.id) AS roles
         FROM learners l JOIN learner_identities i ON i.learner_id = l.id AND i.kind = 'oidc'
         GROUP BY l.id, l.display_name ORDER BY lower(coalesce(l.display_name, min(i.email), l.id))`,
      );
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
