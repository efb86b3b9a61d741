import { describe, expect, it } from 'vitest';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openStore } from '../store/index.ts';
import { learnerAttempts } from './learner-attempts.ts';
import { sqliteStore } from '../store/sqlite-store.ts';

describe('learnerAttempts', () => {
  it('lists only this learner\'s attempts, newest first, open ones without a score', async () => {
    const store = openStore(':memory:', allMigrations);
    const learners = learnerService({ store: sqliteStore(store) });
    const me = (await learners.create()).learner.id;
    const other = (await learners.create()).learner.id;
    const insert = store.prepare('INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at, submitted_at, earned, max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run('a1', me, 'l18', 'h', 's', '[]', '2026-11-27T10:00:00Z', '2026-11-27T10:05:00Z', 2.5, 4);
    insert.run('a2', me, 'l18', 'h', 's', '[]', '2026-11-27T11:00:00Z', null, null, null);
    insert.run('a3', other, 'l18', 'h', 's', '[]', '2026-11-27T12:00:00Z', '2026-11-27T12:05:00Z', 4, 4);
    expect(await learnerAttempts(sqliteStore(store), me)).toEqual([
      { quiz: 'l18', startedAt: '2026-11-27T11:00:00Z', submittedAt: undefined, earned: undefined, max: undefined },
      { quiz: 'l18', startedAt: '2026-11-27T10:00:00Z', submittedAt: '2026-11-27T10:05:00Z', earned: 2.5, max: 4 },
    ]);
    store.close();
  });
});
