/**
 * The instructor's view of a quiz: item statistics over each learner's first submitted attempt
 * (later attempts are practice after seeing the explanations, and would inflate facility), plus
 * how often each option was picked, which shows the distractors that work and the ones that don't.
 */
import type { Question } from '../../schemas/quiz.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { CatalogQuiz } from './catalog.ts';
import { itemStatistics, mean, type ItemStatistics } from './statistics.ts';

export interface ItemReport extends ItemStatistics {
  prompt: string;
  type: Question['type'];
  points: number;
  pool: string | undefined;
  /** For choice questions: picks per option among the analysed attempts. */
  options: Array<{ id: string; text: string; correct: boolean; picks: number }>;
}

export interface QuizReport {
  slug: string;
  title: string;
  learners: number;
  attempts: number;
  meanPercent: number | undefined;
  items: ItemReport[];
}

interface Row {
  attempt_id: string;
  learner_id: string;
  question_id: string;
  answer: string | null;
  score: number | null;
}

function correctIds(q: Question): string[] {
  if (q.type === 'single' || q.type === 'multiple' || q.type === 'audit-event') return Array.isArray(q.correct) ? q.correct : [q.correct];
  return [];
}

/** `learners`: only these learners' attempts (a class); every learner's without it. */
export async function quizReport(store: SqlStore, quiz: CatalogQuiz, learners?: ReadonlySet<string>): Promise<QuizReport> {
  const attempts = (
    await store.all<{ id: string; learner_id: string; earned: number; max: number }>('SELECT id, learner_id, earned, max FROM quiz_attempts WHERE quiz = ? AND submitted_at IS NOT NULL ORDER BY submitted_at, id', [quiz.slug])
  ).filter((a) => !learners || learners.has(a.learner_id));
  const first = new Map<string, { id: string; earned: number; max: number }>();
  for (const a of attempts) if (!first.has(a.learner_id)) first.set(a.learner_id, a);
  const chosen = new Set([...first.values()].map((a) => a.id));
  const rows = (
    await store.all<Row>('SELECT a.attempt_id, t.learner_id, a.question_id, a.answer, a.score FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id WHERE t.quiz = ? AND t.submitted_at IS NOT NULL', [quiz.slug])
  ).filter((r) => chosen.has(r.attempt_id));

  const byAttempt = new Map<string, Record<string, number | null>>();
  for (const r of rows) {
    const scores = byAttempt.get(r.attempt_id) ?? {};
    // Submit records every asked question; one with no answer is unanswered, not wrong.
    scores[r.question_id] = r.answer === null ? null : (r.score ?? 0);
    byAttempt.set(r.attempt_id, scores);
  }
  const questions = quiz.data.questions;
  const stats = itemStatistics(
    [...byAttempt.values()].map((scores) => ({ scores })),
    questions.map((q) => ({ id: q.id, points: q.points })),
  );
  const picks = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (r.answer === null) continue;
    const counts = picks.get(r.question_id) ?? new Map<string, number>();
    const value = JSON.parse(r.answer) as unknown;
    for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'string') counts.set(id, (counts.get(id) ?? 0) + 1);
    picks.set(r.question_id, counts);
  }
  const items = questions.map((q, i): ItemReport => {
    const correct = correctIds(q);
    const options = 'options' in q
      ? q.options.map((o) => ({ id: o.id, text: o.text, correct: correct.includes(o.id), picks: picks.get(q.id)?.get(o.id) ?? 0 }))
      : [];
    return { ...stats[i]!, prompt: q.prompt, type: q.type, points: q.points, pool: q.pool, options };
  });
  const percents = [...first.values()].filter((a) => a.max > 0).map((a) => (100 * a.earned) / a.max);
  const meanPercent = mean(percents);
  return {
    slug: quiz.slug,
    title: quiz.data.title,
    learners: first.size,
    attempts: attempts.length,
    meanPercent: meanPercent === undefined ? undefined : Math.round(meanPercent * 10) / 10,
    items,
  };
}
