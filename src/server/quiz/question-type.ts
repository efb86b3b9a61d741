/**
 * One interface for every kind of question. A question type knows its authored schema, what a
 * learner's answer looks like, what the learner may see before answering (never the key), and how
 * to grade an answer with partial credit, all in authored ids. The engine handles everything
 * else: seeding, replacing the ids in \`options\`, \`items\`, \`pairs\` and \`choices\` with opaque
 * per-attempt tokens, storage, totals.
 */
import type { z } from 'zod';
import type { Question, QuestionOf } from '../../schemas/quiz.ts';
import type { AnswerValue, QuestionView } from '../../lib/quiz-view.ts';
import type { Random } from '../../lib/seeded-random.ts';

/** The right answer in authored ids; the engine turns it into per-attempt tokens for the browser. */
export type AuthoredSolution =
  | { type: 'choice'; correct: string[] }
  | { type: 'ordering'; order: string[] }
  | { type: 'matching'; pairs: Record<string, string> }
  | { type: 'text'; answer: string };

export interface Grade {
  /** Full marks. */
  correct: boolean;
  /** 0..1. */
  score: number;
  /** What was right or wrong about this answer, in words a learner can use. */
  feedback: string;
  solution: AuthoredSolution;
}

/** What `view` gets from the engine: a random source seeded for this attempt and question. */
export interface ViewContext {
  random: Random;
}

type ViewFields<T extends Question['type']> = Omit<Extract<QuestionView, { type: T }>, 'id' | 'number' | 'prompt' | 'points'>;

export interface QuestionType<T extends Question['type']> {
  type: T;
  /** The authored question's schema (from src/schemas/quiz.ts). */
  schema: z.ZodType;
  /** Shape of a learner's answer to this question. */
  answerSchema(question: QuestionOf<T>): z.ZodType<AnswerValue>;
  /** The public part of the question, in authored ids, options in this attempt's order. Holds no key. */
  view(question: QuestionOf<T>, context: ViewContext): ViewFields<T>;
  /** Grade an answer given in authored ids. */
  grade(question: QuestionOf<T>, answer: AnswerValue): Grade;
}

/** Credit as a readable fraction: 1 → "full credit", 0.5 → "50% credit". */
export function creditText(score: number): string {
  if (score >= 1) return 'full credit';
  if (score <= 0) return 'no credit';
  return `${Math.round(score * 100)}% credit`;
}
