/**
 * Who is learning: an anonymous learner with a random id, created the first time a browser needs
 * one, remembered by an httpOnly session cookie, with an optional display name. Labs, drills and
 * progress pages hang their rows off `learners.id`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/database.ts';

export const SESSION_COOKIE = 'irlab_session';
/** A year: progress should survive until the learner clears their cookies. */
export const SESSION_MAX_AGE_SECONDS = 365 * 24 * 3600;

export interface Learner {
  id: string;
  displayName: string | undefined;
  createdAt: string;
}

export interface LearnerDeps {
  store: Store;
  clock?: () => Date;
  randomBytes?: (size: number) => Buffer;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

interface LearnerRow {
  id: string;
  display_name: string | null;
  created_at: string;
}
const toLearner = (row: LearnerRow): Learner => ({ id: row.id, displayName: row.display_name ?? undefined, createdAt: row.created_at });

export function learnerService({ store, clock = () => new Date(), randomBytes: bytes = randomBytes }: LearnerDeps) {
  return {
    /** The learner a session token belongs to, or undefined for a missing, unknown or malformed token. */
    fromSession(token: string | undefined): Learner | undefined {
      if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      const row = store
        .prepare('SELECT l.id, l.display_name, l.created_at FROM learner_sessions s JOIN learners l ON l.id = s.learner_id WHERE s.token_hash = ?')
        .get(hashToken(token)) as LearnerRow | undefined;
      if (!row) return undefined;
      const now = clock().toISOString();
      store.prepare('UPDATE learner_sessions SET last_seen_at = ? WHERE token_hash = ?').run(now, hashToken(token));
      store.prepare('UPDATE learners SET last_seen_at = ? WHERE id = ?').run(now, row.id);
      return toLearner(row);
    },

    /** A new learner and the session token to put in its cookie. */
    create(displayName?: string): { learner: Learner; token: string } {
      const now = clock().toISOString();
      const id = `lrn_${bytes(12).toString('base64url')}`;
      const token = bytes(32).toString('base64url');
      store.prepare('INSERT INTO learners (id, display_name, created_at, last_seen_at) VALUES (?, ?, ?, ?)').run(id, displayName ?? null, now, now);
      store.prepare('INSERT INTO learner_sessions (token_hash, learner_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)').run(hashToken(token), id, now, now);
      return { learner: { id, displayName, createdAt: now }, token };
    },

    /** A new session for an existing learner (after a sign-in switched the browser to them). */
    startSession(learnerId: string): string {
      const now = clock().toISOString();
      const token = bytes(32).toString('base64url');
      store.prepare('INSERT INTO learner_sessions (token_hash, learner_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)').run(hashToken(token), learnerId, now, now);
      return token;
    },

    /** Forgets a session (sign-out, or the old one a sign-in replaced). */
    endSession(token: string | undefined): void {
      if (token && /^[A-Za-z0-9_-]{43}$/.test(token)) store.prepare('DELETE FROM learner_sessions WHERE token_hash = ?').run(hashToken(token));
    },

    setDisplayName(id: string, displayName: string | undefined): Learner | undefined {
      store.prepare('UPDATE learners SET display_name = ? WHERE id = ?').run(displayName ?? null, id);
      const row = store.prepare('SELECT id, display_name, created_at FROM learners WHERE id = ?').get(id) as LearnerRow | undefined;
      return row ? toLearner(row) : undefined;
    },

    get(id: string): Learner | undefined {
      const row = store.prepare('SELECT id, display_name, created_at FROM learners WHERE id = ?').get(id) as LearnerRow | undefined;
      return row ? toLearner(row) : undefined;
    },
  };
}

export type LearnerService = ReturnType<typeof learnerService>;
