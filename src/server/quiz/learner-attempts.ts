/** One learner's quiz attempts, newest first, for the progress page. */
import type { SqlStore } from '../store/sql-store.ts';

export interface QuizAttemptSummary {
  quiz: string;
  startedAt: string;
  /** Absent while the attempt is open. */
  submittedAt: string | undefined;
  /** Points earned and available, once submitted. */
  earned: number | undefined;
  max: number | undefined;
}

export async function learnerAttempts(store: SqlStore, learnerId: string): Promise<QuizAttemptSummary[]> {
  const rows = await store.all<{ quiz: string; started_at: string; submitted_at: string | null; earned: number | null; max: number | null }>(
    'SELECT quiz, started_at, submitted_at, earned, max FROM quiz_attempts WHERE learner_id = ? ORDER BY started_at DESC',
    [learnerId],
  );
  return rows.map((r) => ({ quiz: r.quiz, startedAt: r.started_at, submittedAt: r.submitted_at ?? undefined, earned: r.earned ?? undefined, max: r.max ?? undefined }));
}
