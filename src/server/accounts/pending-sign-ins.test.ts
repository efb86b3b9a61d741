import { describe, expect, it } from 'vitest';
import { allMigrations, openStore } from '../store/index.ts';
import { pendingSignIns, PENDING_TTL_MS } from './pending-sign-ins.ts';

describe('pending sign-ins', () => {
  it('are taken once, unknown states find nothing, and ten minutes later they are gone', () => {
    let now = new Date('2026-12-07T10:00:00Z');
    const store = openStore(':memory:', allMigrations);
    const pending = pendingSignIns({ store, clock: () => now });
    const started = { codeVerifier: 'v', nonce: 'n', returnTo: '/labs' };
    pending.put('state-1', started);
    pending.put('state-2', started);
    expect(pending.take('state-1')).toEqual(started);
    expect(pending.take('state-1')).toBeUndefined();
    expect(pending.take('forged')).toBeUndefined();
    // The state itself is never stored, only its hash.
    expect(JSON.stringify(store.prepare('SELECT * FROM oidc_sign_ins').all())).not.toContain('state-2');
    now = new Date(now.getTime() + PENDING_TTL_MS + 1);
    expect(pending.take('state-2')).toBeUndefined();
  });

  it('refuses a start past the limit of sign-ins under way, and accepts again once one is taken', () => {
    const pending = pendingSignIns({ store: openStore(':memory:', allMigrations) });
    const started = { codeVerifier: 'v', nonce: 'n', returnTo: '/' };
    expect(pending.put('a', started, 2)).toBe(true);
    expect(pending.put('b', started, 2)).toBe(true);
    expect(pending.put('c', started, 2)).toBe(false);
    expect(pending.take('c')).toBeUndefined();
    pending.take('a');
    expect(pending.put('c', started, 2)).toBe(true);
  });
});
