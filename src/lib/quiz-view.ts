/**
 * What the quiz API sends to the browser. These shapes never hold an answer key: option ids are
 * per-attempt tokens (not the authored ids), orders are shuffled, and explanations and solutions
 * appear only in a `QuestionResult`, which the server returns after the question is graded.
 */

/** An option, item or choice as the learner sees it; `id` is an opaque per-attempt token. */
export interface OptionView {
  id: string;
  text: string;
}

interface QuestionViewBase {
  /** The authored question id (e.g. `first-step`); stable across attempts. */
  id: string;
  /** Position in this attempt, 1-based. */
  number: number;
  prompt: string;
  points: number;
}

export type QuestionView =
  | (QuestionViewBase & { type: 'single'; options: OptionView[] })
  | (QuestionViewBase & { type: 'multiple'; options: OptionView[] })
  | (QuestionViewBase & { type: 'ordering'; items: OptionView[] })
  | (QuestionViewBase & { type: 'matching'; pairs: OptionView[]; choices: OptionView[] })
  | (QuestionViewBase & { type: 'text'; placeholder?: string; multiline: boolean })
  | (QuestionViewBase & { type: 'audit-event'; event: string; multiple: boolean; options: OptionView[] });

export type QuestionTypeName = QuestionView['type'];

/**
 * A learner's answer: an option token (single, audit-event), a list of tokens (multiple, the
 * ordering in the learner's order), pair token to choice token (matching), or free text.
 */
export type AnswerValue = string | string[] | Record<string, string>;

/** The right answer, revealed after grading, in the same tokens as the question view. */
export type Solution =
  | { type: 'choice'; correct: string[] }
  | { type: 'ordering'; order: string[] }
  | { type: 'matching'; pairs: Record<string, string> }
  | { type: 'text'; answer: string };

export interface QuestionResult {
  questionId: string;
  correct: boolean;
  /** 0..1, partial credit included. */
  score: number;
  points: number;
  /** `score * points`. */
  earned: number;
  /** What was right or wrong about this answer, in words. */
  feedback: string;
  /**
   * Why the right answer is right. Absent, like `solution`, for a question the learner did not
   * answer, until an attempt passes or the last allowed attempt is submitted.
   */
  explanation?: string;
  /** Link back to the lesson section that teaches it (always present: where to look, not the answer). */
  section: { href: string; title: string };
  /** The right answer; absent while withheld (see `explanation`). */
  solution?: Solution;
  /** The learner's answer as graded (tokens), or undefined when unanswered. */
  answer: AnswerValue | undefined;
}

export type FeedbackMode = 'immediate' | 'deferred';

export interface AttemptView {
  id: string;
  /** 1-based count of this attempt among the learner's attempts at the quiz. */
  number: number;
  questions: QuestionView[];
  /** Answers saved so far, by question id. */
  answers: Record<string, AnswerValue>;
  /** Immediate feedback: results of the questions already checked. Deferred: empty until submitted. */
  results: Record<string, QuestionResult>;
  submitted: boolean;
  score?: AttemptScore;
}

export interface AttemptScore {
  earned: number;
  max: number;
  percent: number;
  passed: boolean;
}

export interface QuizState {
  slug: string;
  title: string;
  description?: string;
  feedback: FeedbackMode;
  passPercent: number;
  questionCount: number;
  /** Lesson the quiz belongs to, for links back. */
  lesson?: { href: string; title: string };
  attemptsUsed: number;
  /** Undefined when unlimited. */
  attemptsAllowed?: number;
  /** The attempt in progress, or the last submitted one. */
  attempt?: AttemptView;
  /** Best percentage over submitted attempts. */
  bestPercent?: number;
}

/** The error body every quiz endpoint returns for a bad request. */
export interface ApiError {
  error: string;
  hint?: string;
  problems?: Array<{ path: string; message: string; hint?: string }>;
}
