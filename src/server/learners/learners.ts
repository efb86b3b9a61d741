/**
 * Who is learning: an anonymous learner with a random id, created the first time a browser needs
 * one, remembered by an httpOnly session cookie, with an optional display name. Labs, drills and
 * progress pages hang their rows off `learners.id`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SqlStore } from '../store/sql-store.ts';

export const SESSION_COOKIE = 'irlab_session';
/** A year: progress should survive until the learner clears their cookies. */
export const SESSION_MAX_AGE_SECONDS = 365 * 24 * 3600;

export interface Learner {
  id: string;
  displayName: string | undefined;
  createdAt: string;
}

export interface LearnerDeps {
  store: SqlStore;
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
    async fromSession(token: string | undefined): Promise<Learner | undefined> {
      if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      const row = await store.get<LearnerRow>('SELECT l.id, l.display_name, l.created_at FROM learner_sessions s JOIN learners l ON l.id = s.learner_id WHERE s.token_hash = ?', [hashToken(token)]);
      if (!row) return undefined;
      const now = clock().toISOString();
      await store.run('UPDATE learner_sessions SET last_seen_at = ? WHERE token_hash = ?', [now, hashToken(token)]);
      await store.run('UPDATE learners SET last_seen_at = ? WHERE id = ?', [now, row.id]);
      return toLearner(row);
    },

    /** A new learner and the session token to put in its cookie. */
    async create(displayName?: string): Promise<{ learner: Learner; token: string }> {
      const now = clock().toISOString();
      const id = `lrn_${bytes(12).toString('base64url')}`;
      const token = bytes(32).toString('base64url');
      // Two statements, no transaction: a learner row left without its session (the second
      // failing) is a harmless orphan, and no transaction is held open across an await.
      await store.run('INSERT INTO learners (id, display_name, created_at, last_seen_at) VALUES (?, ?, ?, ?)', [id, displayName ?? null, now, now]);
      await store.run('INSERT INTO learner_sessions (token_hash, learner_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)', [hashToken(token), id, now, now]);
      return { learner: { id, displayName, createdAt: now }, token };
    },

    /** A new session for an existing learner (after a sign-in switched the browser to them). */
    async startSession(learnerId: string): Promise<string> {
      const now = clock().toISOString();
      const token = bytes(32).toString('base64url');
      await store.run('INSERT INTO learner_sessions (token_hash, learner_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)', [hashToken(token), learnerId, now, now]);
      return token;
    },

    /** Forgets a session (sign-out, or the old one a sign-in replaced). */
    async endSession(token: string | undefined): Promise<void> {
      if (token && /^[A-Za-z0-9_-]{43}$/.test(token)) await store.run('DELETE FROM learner_sessions WHERE token_hash = ?', [hashToken(token)]);
    },

    async setDisplayName(id: string, displayName: string | undefined): Promise<Learner | undefined> {
      await store.run('UPDATE learners SET display_name = ? WHERE id = ?', [displayName ?? null, id]);
      const row = await store.get<LearnerRow>('SELECT id, display_name, created_at FROM learners WHERE id = ?', [id]);
      return row ? toLearner(row) : undefined;
    },

    async get(id: string): Promise<Learner | undefined> {
      const row = await store.get<LearnerRow>('SELECT id, display_name, created_at FROM learners WHERE id = ?', [id]);
      return row ? toLearner(row) : undefined;
    },
  };
}

export type LearnerService = ReturnType<typeof learnerService>;
