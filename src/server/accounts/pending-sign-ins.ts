/**
 * What an OpenID Connect callback must check (PKCE verifier, nonce, where to return), kept on the
 * server under the SHA-256 of the state, for ten minutes, and taken exactly once: a replayed
 * callback finds nothing.
 */
import { createHash } from 'node:crypto';
import type { SqlStore } from '../store/sql-store.ts';

export const PENDING_TTL_MS = 10 * 60 * 1000;
/** Sign-ins under way at once: past it a start is refused (429) rather than the table growing without end. */
export const MAX_PENDING = 10_000;

export interface PendingSignIn {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
}

const hash = (state: string) => createHash('sha256').update(state).digest('hex');

export function pendingSignIns({ store, clock = () => new Date() }: { store: SqlStore; clock?: () => Date }) {
  const purge = () => store.run('DELETE FROM oidc_sign_ins WHERE created_at < ?', [new Date(clock().getTime() - PENDING_TTL_MS).toISOString()]);
  return {
    /** False when MAX_PENDING sign-ins are already under way (nothing stored). */
    async put(state: string, pending: PendingSignIn, max = MAX_PENDING): Promise<boolean> {
      await purge();
      if ((await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM oidc_sign_ins'))!.n >= max) return false;
      await store.run('INSERT INTO oidc_sign_ins (state_hash, code_verifier, nonce, return_to, created_at) VALUES (?, ?, ?, ?, ?)', [
        hash(state),
        pending.codeVerifier,
        pending.nonce,
        pending.returnTo,
        clock().toISOString(),
      ]);
      return true;
    },
    /** The sign-in this state started, removed as it is read; undefined if unknown, used or expired. */
    async take(state: string): Promise<PendingSignIn | undefined> {
      await purge();
      // One statement: two callbacks with the same state cannot both get it.
      const row = await store.get<{ code_verifier: string; nonce: string; return_to: string }>('DELETE FROM oidc_sign_ins WHERE state_hash = ? RETURNING code_verifier, nonce, return_to', [hash(state)]);
      return row ? { codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to } : undefined;
    },
  };
}
