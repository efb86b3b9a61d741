import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../store/sql-store.ts';
import { testStores } from '../store/store-test-kit.ts';
import { learnerService, type LearnerService } from './learners.ts';

describe.each(testStores())('learners on $name', (backend) => {
  let store: SqlStore;
  let service: LearnerService;
  beforeAll(async () => {
    store = await backend.open();
    service = learnerService({ store, clock: () => new Date('2026-11-27T10:00:00Z') });
  });
  afterAll(() => store.close());

  it('creates a learner with a random id and finds it again by its session token', async () => {
    const { learner, token } = await service.create();
    expect(learner.id).toMatch(/^lrn_[A-Za-z0-9_-]{16}$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await service.fromSession(token)).toEqual({ id: learner.id, displayName: undefined, createdAt: '2026-11-27T10:00:00.000Z' });
    expect((await service.create()).learner.id).not.toBe(learner.id);
  });

  it('stores only a hash of the session token', async () => {
    const { token } = await service.create();
    const rows = await store.all<{ token_hash: string }>('SELECT token_hash FROM learner_sessions');
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });

  it('knows nobody for a missing, unknown or malformed token', async () => {
    expect(await service.fromSession(undefined)).toBeUndefined();
    expect(await service.fromSession('x'.repeat(43))).toBeUndefined();
    expect(await service.fromSession("' OR 1=1 --")).toBeUndefined();
  });

  it('sets and clears a display name', async () => {
    const { learner, token } = await service.create('Ada');
    expect((await service.fromSession(token))?.displayName).toBe('Ada');
    expect((await service.setDisplayName(learner.id, 'Grace'))?.displayName).toBe('Grace');
    expect((await service.setDisplayName(learner.id, undefined))?.displayName).toBeUndefined();
  });
});
