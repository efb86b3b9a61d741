import { create } from 'zustand';
import type { AnswerValue, ApiError, QuestionResult, QuestionView, QuizState } from '../lib/quiz-view.ts';

/**
 * Client state of the quiz island: the server's view of the quiz and attempt, the learner's
 * unsent answers (drafts), and what to announce to screen readers. The server grades; this store
 * only ever holds what the API returned, so it has no answer key to leak.
 */

/** How the store reaches the quiz API; injected so tests can drive it with a fake `fetch`. */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface QuizStore {
  slug: string;
  status: 'idle' | 'loading' | 'ready' | 'error';
  quiz: QuizState | undefined;
  drafts: Record<string, AnswerValue>;
  /** Per-question message when the learner's answer cannot be sent (e.g. nothing chosen). */
  questionErrors: Record<string, string>;
  busy: string | undefined;
  error: ApiError | undefined;
  announcement: string;
  load(slug: string): Promise<void>;
  start(): Promise<void>;
  setDraft(questionId: string, value: AnswerValue): void;
  check(questionId: string): Promise<QuestionResult | undefined>;
  submit(): Promise<void>;
}

export function isEmptyAnswer(question: QuestionView, value: AnswerValue | undefined): boolean {
  if (value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  return question.type === 'matching' ? Object.keys(value).length < question.pairs.length : Object.keys(value).length === 0;
}

/** A readable sentence for a result, also what screen readers hear. */
export function resultSummary(result: QuestionResult): string {
  const verdict = result.correct ? 'Correct' : result.score > 0 ? `Partly correct (${Math.round(result.score * 100)}%)` : 'Incorrect';
  const points = `${round(result.earned)} of ${result.points} point${result.points === 1 ? '' : 's'}`;
  return `${verdict}: ${points}.`;
}

export const round = (n: number) => Math.round(n * 100) / 100;

async function call<T>(fetcher: Fetch, url: string, init?: RequestInit): Promise<T> {
  const response = await fetcher(url, { ...init, headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) }, credentials: 'same-origin' });
  const body = (await response.json().catch(() => ({ error: `the server answered ${response.status} without details` }))) as unknown;
  if (!response.ok) throw body as ApiError;
  return body as T;
}

function initialDrafts(quiz: QuizState | undefined): Record<string, AnswerValue> {
  const attempt = quiz?.attempt;
  if (!attempt) return {};
  const drafts: Record<string, AnswerValue> = {};
  for (const q of attempt.questions) {
    const saved = attempt.answers[q.id];
    if (saved !== undefined) drafts[q.id] = saved;
    // An ordering question starts as shown: leaving it untouched is an answer too.
    else if (q.type === 'ordering') drafts[q.id] = q.items.map((i) => i.id);
  }
  return drafts;
}

const asApiError = (error: unknown): ApiError =>
  typeof error === 'object' && error !== null && 'error' in error ? (error as ApiError) : { error: `could not reach the server (${String(error)})`, hint: 'check your connection and try again' };

export const createQuizStore = (fetcher: Fetch = (input, init) => fetch(input, init)) =>
  create<QuizStore>()((set, get) => {
    const base = () => `/api/quizzes/${encodeURIComponent(get().slug)}`;
    const fail = (error: unknown) => {
      const apiError = asApiError(error);
      set({ error: apiError, busy: undefined, announcement: `Error: ${apiError.error}` });
    };
    return {
      slug: '',
      status: 'idle',
      quiz: undefined,
      drafts: {},
      questionErrors: {},
      busy: undefined,
      error: undefined,
      announcement: '',

      async load(slug) {
        set({ slug, status: 'loading', error: undefined });
        try {
          const quiz = await call<QuizState>(fetcher, `/api/quizzes/${encodeURIComponent(slug)}`);
          set({ quiz, status: 'ready', drafts: initialDrafts(quiz) });
        } catch (error) {
          set({ status: 'error', error: asApiError(error) });
        }
      },

      async start() {
        set({ busy: 'start', error: undefined });
        try {
          const quiz = await call<QuizState>(fetcher, `${base()}/attempts`, { method: 'POST' });
          const attempt = quiz.attempt!;
          set({ quiz, drafts: initialDrafts(quiz), questionErrors: {}, busy: undefined, announcement: `Attempt ${attempt.number} started: ${attempt.questions.length} questions.` });
        } catch (error) {
          fail(error);
        }
      },

      setDraft(questionId, value) {
        set((s) => ({ drafts: { ...s.drafts, [questionId]: value }, questionErrors: { ...s.questionErrors, [questionId]: '' } }));
      },

      async check(questionId) {
        const { quiz, drafts } = get();
        const attempt = quiz?.attempt;
        const question = attempt?.questions.find((q) => q.id === questionId);
        if (!attempt || !question) return undefined;
        if (isEmptyAnswer(question, drafts[questionId])) {
          const message = question.type === 'matching' ? 'Match every item before checking.' : question.type === 'text' ? 'Type an answer before checking.' : 'Choose an answer before checking.';
          set((s) => ({ questionErrors: { ...s.questionErrors, [questionId]: message }, announcement: message }));
          return undefined;
        }
        set({ busy: questionId, error: undefined });
        try {
          const response = await call<{ saved: true; result?: QuestionResult }>(fetcher, `${base()}/attempts/${attempt.id}/answers`, {
            method: 'POST',
            body: JSON.stringify({ questionId, answer: drafts[questionId] }),
          });
          const result = response.result;
          set((s) => {
            const current = s.quiz?.attempt;
            if (!s.quiz || !current) return { busy: undefined };
            const results = result ? { ...current.results, [questionId]: result } : current.results;
            return {
              busy: undefined,
              quiz: { ...s.quiz, attempt: { ...current, answers: { ...current.answers, [questionId]: drafts[questionId]! }, results } },
              announcement: result ? `Question ${question.number}: ${resultSummary(result)}` : `Answer to question ${question.number} saved.`,
            };
          });
          return result;
        } catch (error) {
          fail(error);
          return undefined;
        }
      },

      async submit() {
        const { quiz, drafts } = get();
        const attempt = quiz?.attempt;
        if (!quiz || !attempt) return;
        set({ busy: 'submit', error: undefined });
        try {
          if (quiz.feedback === 'deferred') {
            // Send what changed since the last save; the server grades everything on submit.
            for (const q of attempt.questions) {
              const draft = drafts[q.id];
              if (draft === undefined || isEmptyAnswer(q, draft) || JSON.stringify(draft) === JSON.stringify(attempt.answers[q.id])) continue;
              await call(fetcher, `${base()}/attempts/${attempt.id}/answers`, { method: 'POST', body: JSON.stringify({ questionId: q.id, answer: draft }) });
            }
          }
          const next = await call<QuizState>(fetcher, `${base()}/attempts/${attempt.id}/submit`, { method: 'POST' });
          const score = next.attempt?.score;
          set({
            quiz: next,
            busy: undefined,
            announcement: score ? `Quiz submitted. Score: ${round(score.earned)} of ${score.max} points, ${score.percent}%. ${score.passed ? 'Passed' : 'Not passed yet'}.` : 'Quiz submitted.',
          });
        } catch (error) {
          fail(error);
        }
      },
    };
  });

export const useQuizStore = createQuizStore();
