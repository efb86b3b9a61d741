import { describe, expect, it } from 'vitest';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';
import { pendingSignIns, PENDING_TTL_MS } from './pending-sign-ins.ts';

describe.each(testStores())('pending sign-ins on $name', (backend) => {
  const openStore = openedPerTest();
  const open = () => openStore(backend);

  it('are taken once, unknown states find nothing, and ten minutes later they are gone', async () => {
    let now = new Date('2026-12-07T10:00:00Z');
    const store = await open();
    const pending = pendingSignIns({ store, clock: () => now });
    const started = { codeVerifier: 'v', nonce: 'n', returnTo: '/labs' };
    await pending.put('state-1', started);
    await pending.put('state-2', started);
    expect(await pending.take('state-1')).toEqual(started);
    expect(await pending.take('state-1')).toBeUndefined();
    expect(await pending.take('forged')).toBeUndefined();
    // The state itself is never stored, only its hash.
    expect(JSON.stringify(await store.all('SELECT * FROM oidc_sign_ins'))).not.toContain('state-2');
    now = new Date(now.getTime() + PENDING_TTL_MS + 1);
    expect(await pending.take('state-2')).toBeUndefined();
  });

  it('refuses a start past the limit of sign-ins under way, and accepts again once one is taken', async () => {
    const pending = pendingSignIns({ store: await open() });
    const started = { codeVerifier: 'v', nonce: 'n', returnTo: '/' };
    expect(await pending.put('a', started, 2)).toBe(true);
    expect(await pending.put('b', started, 2)).toBe(true);
    expect(await pending.put('c', started, 2)).toBe(false);
    expect(await pending.take('c')).toBeUndefined();
    await pending.take('a');
    expect(await pending.put('c', started, 2)).toBe(true);
  });
});
