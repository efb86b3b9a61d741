/**
 * The quiz engine: attempts, answers, grading and totals, stored in SQLite. Grading happens here
 * and only here; what leaves this module for a browser is built from `src/lib/quiz-view.ts` types.
 */
import { randomBytes } from 'node:crypto';
import type { Question } from '../../schemas/quiz.ts';
import type { AnswerValue, AttemptView, QuestionResult, QuizState } from '../../lib/quiz-view.ts';
import { brandStatus } from '../../lib/error-status.ts';
import { problemsFromZod, type ContentProblem } from '../content/friendly-errors.ts';
import type { LearningEvents } from '../learners/learning-events.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { CatalogQuiz, QuizCatalog } from './catalog.ts';
import { AnswerError, decodeAnswer, drawQuestions, encodeAnswer, encodeSolution, viewQuestion } from './present.ts';
import { questionTypeOf } from './question-types/index.ts';

export class QuizError extends Error {
  readonly status: number;
  readonly hint: string | undefined;
  readonly problems: ContentProblem[] | undefined;
  constructor(status: number, message: string, hint?: string, problems?: ContentProblem[]) {
    super(message);
    this.name = 'QuizError';
    this.status = status;
    this.hint = hint;
    this.problems = problems;
    brandStatus(this, status);
  }
}

export interface QuizEngineDeps {
  store: SqlStore;
  catalog: QuizCatalog;
  clock?: () => Date;
  /** Seeds and attempt ids; random bytes by default, fixed in tests that need a known order. */
  newId?: (kind: 'attempt' | 'seed') => string;
  /** Told of attempts launched, answers saved and attempts submitted (xAPI, LTI grades, dashboards). */
  events?: LearningEvents;
}

interface AttemptRow {
  id: string;
  learner_id: string;
  quiz: string;
  seed: string;
  question_ids: string;
  started_at: string;
  submitted_at: string | null;
  earned: number | null;
  max: number | null;
}
interface AnswerRow {
  question_id: string;
  answer: string | null;
  score: number | null;
}

/**
 * An answer with nothing in it (blank text, no option, no match) is no answer: it must not count
 * as "answered", or posting empty answers would reveal every solution.
 */
function isBlank(answer: AnswerValue): boolean {
  if (typeof answer === 'string') return answer.trim() === '';
  if (Array.isArray(answer)) return answer.length === 0;
  return Object.keys(answer).length === 0;
}

function emptyAnswer(question: Question): AnswerValue {
  if (question.type === 'multiple' || question.type === 'ordering') return [];
  if (question.type === 'audit-event' && Array.isArray(question.correct)) return [];
  if (question.type === 'matching') return {};
  return '';
}

export function quizEngine({ store, catalog, clock = () => new Date(), newId = (kind) => `${kind === 'attempt' ? 'att_' : ''}${randomBytes(12).toString('base64url')}`, events }: QuizEngineDeps) {
  const activityOf = (slug: string, quiz: CatalogQuiz) => ({ kind: 'quiz', slug, title: quiz.data.title }) as const;
  const quizOf = (slug: string): CatalogQuiz => {
    const quiz = catalog.get(slug);
    if (!quiz) throw new QuizError(404, `no quiz "${slug}"`, 'check the address; quizzes live at /quizzes/<slug>');
    return quiz;
  };

  const questionsOf = (quiz: CatalogQuiz, row: AttemptRow): Question[] =>
    (JSON.parse(row.question_ids) as string[]).map((id) => quiz.data.questions.find((q) => q.id === id)).filter((q): q is Question => q !== undefined);

  const sectionOf = (quiz: CatalogQuiz, anchor: string) => {
    const heading = quiz.lesson?.headings.find((h) => h.slug === anchor);
    return { href: `/lessons/${quiz.data.lesson}#${anchor}`, title: heading?.text ?? anchor };
  };

  /**
   * A graded question. The solution and explanation of an unanswered question are withheld unless
   * `reveal` (a passing or final attempt): otherwise finishing an empty attempt, with a throwaway
   * session, would hand out the whole key. The section link stays: it says where to look.
   */
  function result(quiz: CatalogQuiz, question: Question, seed: string, answer: AnswerValue | undefined, reveal: boolean): QuestionResult {
    const grade = questionTypeOf(question).grade(question, answer ?? emptyAnswer(question));
    const section = sectionOf(quiz, question.section);
    const base = { questionId: question.id, correct: grade.correct, score: grade.score, points: question.points, earned: grade.score * question.points, section };
    if (answer === undefined && !reveal) {
      const when = quiz.data.attempts === undefined ? 'once you pass the quiz' : 'once you pass the quiz or after your last attempt';
      return { ...base, feedback: `Not answered. Its answer is shown ${when}; the lesson section below teaches it.`, answer: undefined };
    }
    return {
      ...base,
      feedback: answer === undefined ? 'Not answered.' : grade.feedback,
      explanation: question.explanation,
      solution: encodeSolution(question, seed, grade.solution),
      answer: answer === undefined ? undefined : encodeAnswer(question, seed, answer),
    };
  }

  const answersOf = (attemptId: string) => store.all<AnswerRow>('SELECT question_id, answer, score FROM quiz_answers WHERE attempt_id = ?', [attemptId]);
  /** A saved answer; a blank one (stored before blanks were refused) counts as unanswered. */
  const parseAnswer = (row: AnswerRow | undefined) => {
    const value = row?.answer == null ? undefined : (JSON.parse(row.answer) as AnswerValue);
    return value === undefined || isBlank(value) ? undefined : value;
  };

  async function attemptView(quiz: CatalogQuiz, row: AttemptRow): Promise<AttemptView> {
    const questions = questionsOf(quiz, row);
    const rows = new Map((await answersOf(row.id)).map((a) => [a.question_id, a]));
    const answers: Record<string, AnswerValue> = {};
    const results: Record<string, QuestionResult> = {};
    const submitted = row.submitted_at !== null;
    const number = (await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM quiz_attempts WHERE quiz = ? AND learner_id = ? AND started_at <= ?', [row.quiz, row.learner_id, row.started_at]))!.n;
    const percent = submitted && row.max ? Math.round((1000 * (row.earned ?? 0)) / row.max) / 10 : undefined;
    const passed = percent !== undefined && percent >= quiz.data.passPercent;
    // Unanswered questions are revealed only by a submitted attempt that passed or was the last allowed.
    const reveal = submitted && (passed || (quiz.data.attempts !== undefined && number >= quiz.data.attempts));
    for (const q of questions) {
      const saved = rows.get(q.id);
      const answer = parseAnswer(saved);
      if (answer !== undefined) answers[q.id] = encodeAnswer(q, row.seed, answer);
      if (submitted || (saved && saved.score !== null)) results[q.id] = result(quiz, q, row.seed, answer, reveal);
    }
    const view: AttemptView = {
      id: row.id,
      number,
      questions: questions.map((q, i) => viewQuestion(q, row.seed, i + 1)),
      answers,
      results,
      submitted,
    };
    if (percent !== undefined) view.score = { earned: row.earned ?? 0, max: row.max!, percent, passed };
    return view;
  }

  // Attempts start at distinct times (one open attempt at a time); the id only makes the order total.
  const attemptsOf = (slug: string, learnerId: string) => store.all<AttemptRow>('SELECT * FROM quiz_attempts WHERE quiz = ? AND learner_id = ? ORDER BY started_at, id', [slug, learnerId]);

  async function ownAttempt(slug: string, learnerId: string, attemptId: string): Promise<AttemptRow> {
    const row = await store.get<AttemptRow>('SELECT * FROM quiz_attempts WHERE id = ? AND quiz = ? AND learner_id = ?', [attemptId, slug, learnerId]);
    if (!row) throw new QuizError(404, `no attempt "${attemptId}" of quiz ${slug} for you`, 'reload the quiz to see your current attempt');
    return row;
  }

  async function state(learnerId: string, slug: string): Promise<QuizState> {
    const quiz = quizOf(slug);
    const rows = await attemptsOf(slug, learnerId);
    const submitted = rows.filter((r) => r.submitted_at !== null);
    const current = rows.find((r) => r.submitted_at === null) ?? submitted.at(-1);
    const percents = submitted.filter((r) => r.max).map((r) => (100 * (r.earned ?? 0)) / r.max!);
    return {
      slug,
      title: quiz.data.title,
      ...(quiz.data.description ? { description: quiz.data.description } : {}),
      feedback: quiz.data.feedback,
      passPercent: quiz.data.passPercent,
      questionCount: drawQuestions(quiz.data, 'count').length,
      ...(quiz.lesson ? { lesson: { href: `/lessons/${quiz.lesson.slug}`, title: quiz.lesson.title } } : {}),
      attemptsUsed: submitted.length,
      ...(quiz.data.attempts ? { attemptsAllowed: quiz.data.attempts } : {}),
      ...(current ? { attempt: await attemptView(quiz, current) } : {}),
      ...(percents.length ? { bestPercent: Math.round(10 * Math.max(...percents)) / 10 } : {}),
    };
  }

  async function start(learnerId: string, slug: string): Promise<QuizState> {
    const quiz = quizOf(slug);
    const rows = await attemptsOf(slug, learnerId);
    if (!rows.some((r) => r.submitted_at === null)) {
      const used = rows.length;
      if (quiz.data.attempts !== undefined && used >= quiz.data.attempts) {
        throw new QuizError(403, `you have used all ${quiz.data.attempts} attempts at this quiz`, 'review your last attempt and the lesson; an instructor can raise the limit in the quiz file');
      }
      const seed = newId('seed');
      const questions = drawQuestions(quiz.data, seed).map((q) => q.id);
      const attemptId = newId('attempt');
      const at = clock().toISOString();
      await store.run('INSERT INTO quiz_attempts (id, learner_id, quiz, quiz_hash, seed, question_ids, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        attemptId,
        learnerId,
        slug,
        quiz.hash,
        seed,
        JSON.stringify(questions),
        at,
      ]);
      await events?.emit({ type: 'launched', learnerId, activity: activityOf(slug, quiz), runId: attemptId, at });
    }
    return state(learnerId, slug);
  }

  /** Saves an answer; with immediate feedback also grades it (once: a checked answer is final). */
  async function answer(learnerId: string, slug: string, attemptId: string, questionId: string, value: unknown): Promise<{ saved: true; result?: QuestionResult }> {
    const quiz = quizOf(slug);
    const row = await ownAttempt(slug, learnerId, attemptId);
    if (row.submitted_at) throw new QuizError(409, 'this attempt is already submitted', 'start a new attempt to answer again');
    const question = questionsOf(quiz, row).find((q) => q.id === questionId);
    if (!question) throw new QuizError(404, `question "${questionId}" is not part of this attempt`);
    const immediate = quiz.data.feedback === 'immediate';
    const existing = await store.get<{ score: number | null }>('SELECT score FROM quiz_answers WHERE attempt_id = ? AND question_id = ?', [attemptId, questionId]);
    if (immediate && existing && existing.score !== null) throw new QuizError(409, 'this question is already checked', 'a checked answer is final; start a new attempt to try again');
    const schema = questionTypeOf(question).answerSchema(question as never);
    const parsed = schema.safeParse(value, { reportInput: true });
    if (!parsed.success) throw new QuizError(400, 'the answer is not in the expected form', undefined, problemsFromZod('answer', schema, parsed.error.issues));
    if (isBlank(parsed.data)) {
      // A blank check would lock the question and show its solution without an answer: refused.
      // Deferred answers can still be cleared: the question is then unanswered again.
      if (immediate) throw new QuizError(400, 'the answer is empty', 'choose an option, match an item or type an answer before checking');
      await store.run('DELETE FROM quiz_answers WHERE attempt_id = ? AND question_id = ?', [attemptId, questionId]);
      return { saved: true };
    }
    let authored: AnswerValue;
    try {
      authored = decodeAnswer(question, row.seed, parsed.data);
    } catch (error) {
      if (error instanceof AnswerError) throw new QuizError(400, error.message, error.hint);
      throw error;
    }
    const score = immediate ? questionTypeOf(question).grade(question, authored).score : null;
    const at = clock().toISOString();
    await store.run(
      'INSERT INTO quiz_answers (attempt_id, question_id, answer, score, answered_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, score = excluded.score, answered_at = excluded.answered_at',
      [attemptId, questionId, JSON.stringify(authored), score, at],
    );
    await events?.emit({ type: 'answered', learnerId, activity: activityOf(slug, quiz), runId: attemptId, question: { id: questionId }, at, ...(score === null ? {} : { success: score >= 1 }) });
    return immediate ? { saved: true, result: result(quiz, question, row.seed, authored, false) } : { saved: true };
  }

  /** Grades every question of the attempt (unanswered ones score 0) and records the total. */
  async function submit(learnerId: string, slug: string, attemptId: string): Promise<QuizState> {
    const quiz = quizOf(slug);
    const row = await ownAttempt(slug, learnerId, attemptId);
    if (row.submitted_at) return state(learnerId, slug);
    const questions = questionsOf(quiz, row);
    const saved = new Map((await answersOf(row.id)).map((a) => [a.question_id, a]));
    const now = clock().toISOString();
    let earned = 0;
    let max = 0;
    const graded = questions.map((q) => {
      const answer = parseAnswer(saved.get(q.id));
      const score = answer === undefined ? 0 : questionTypeOf(q).grade(q, answer).score;
      earned += score * q.points;
      max += q.points;
      return { q, answer, score };
    });
    await store.transaction(async (tx) => {
      for (const { q, answer, score } of graded) {
        await tx.run('INSERT INTO quiz_answers (attempt_id, question_id, answer, score, answered_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (attempt_id, question_id) DO UPDATE SET score = excluded.score', [
          row.id,
          q.id,
          answer === undefined ? null : JSON.stringify(answer),
          score,
          now,
        ]);
      }
      await tx.run('UPDATE quiz_attempts SET submitted_at = ?, earned = ?, max = ? WHERE id = ?', [now, earned, max, row.id]);
    });
    const submitted = await state(learnerId, slug);
    if (events) {
      const score = { scaled: max ? earned / max : 0, raw: earned, max };
      const success = submitted.attempt?.score?.passed ?? false;
      const base = { learnerId, activity: activityOf(slug, quiz), runId: row.id, at: now, score };
      if (success) await events.emit({ ...base, type: 'passed' });
      await events.emit({ ...base, type: 'completed', success });
    }
    return submitted;
  }

  return { state, start, answer, submit, quizOf };
}

export type QuizEngine = ReturnType<typeof quizEngine>;
