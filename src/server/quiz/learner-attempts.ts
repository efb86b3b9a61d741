/** One learner's quiz attempts, newest first, for the progress page. */
import type { Store } from '../store/database.ts';

export interface QuizAttemptSummary {
  quiz: string;
  startedAt: string;
  /** Absent while the attempt is open. */
  submittedAt: string | undefined;
  /** Points earned and available, once submitted. */
  earned: number | undefined;
  max: number | undefined;
}

export function learnerAttempts(store: Store, learnerId: string): QuizAttemptSummary[] {
  const rows = store
    .prepare('SELECT quiz, started_at, submitted_at, earned, max FROM quiz_attempts WHERE learner_id = ? ORDER BY started_at DESC')
    .all(learnerId) as unknown as Array<{ quiz: string; started_at: string; submitted_at: string | null; earned: number | null; max: number | null }>;
  return rows.map((r) => ({ quiz: r.quiz, startedAt: r.started_at, submittedAt: r.submitted_at ?? undefined, earned: r.earned ?? undefined, max: r.max ?? undefined }));
}
