import { describe, expect, it } from 'vitest';
import { openStore } from '../store/database.ts';
import { allMigrations } from '../store/migrations.ts';
import { learnerService } from './learners.ts';

describe('learners', () => {
  const store = openStore(':memory:', allMigrations);
  const service = learnerService({ store, clock: () => new Date('2026-11-27T10:00:00Z') });

  it('creates a learner with a random id and finds it again by its session token', () => {
    const { learner, token } = service.create();
    expect(learner.id).toMatch(/^lrn_[A-Za-z0-9_-]{16}$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(service.fromSession(token)).toEqual({ id: learner.id, displayName: undefined, createdAt: '2026-11-27T10:00:00.000Z' });
    expect(service.create().learner.id).not.toBe(learner.id);
  });

  it('stores only a hash of the session token', () => {
    const { token } = service.create();
    const rows = store.prepare('SELECT token_hash FROM learner_sessions').all() as Array<{ token_hash: string }>;
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });

  it('knows nobody for a missing, unknown or malformed token', () => {
    expect(service.fromSession(undefined)).toBeUndefined();
    expect(service.fromSession('x'.repeat(43))).toBeUndefined();
    expect(service.fromSession("' OR 1=1 --")).toBeUndefined();
  });

  it('sets and clears a display name', () => {
    const { learner, token } = service.create('Ada');
    expect(service.fromSession(token)?.displayName).toBe('Ada');
    expect(service.setDisplayName(learner.id, 'Grace')?.displayName).toBe('Grace');
    expect(service.setDisplayName(learner.id, undefined)?.displayName).toBeUndefined();
  });
});
