/**
 * What the browser receives about a lab: the steps as the learner reads them, their own
 * progress, and never a solution, an answer key or a hint they have not taken.
 */
import type { CheckResult } from './check-result.ts';
import type { LabEngineView } from './lab-engine.ts';

export interface HintView {
  index: number;
  /** Share of the step's points the hint costs. */
  cost: number;
  /** Present only once the learner has taken the hint: the lab file's Markdown. */
  text?: string;
  /** The same hint as HTML rendered on the server (present with `text`). */
  html?: string;
}

export interface QuestionView {
  id: string;
  prompt: string;
  placeholder?: string;
}

export interface StepView {
  id: string;
  title: string;
  /** The step's instructions as HTML rendered on the server from the lab file's Markdown. */
  bodyHtml: string;
  /** The step grades the audit policy: the panel offers to apply audit-policy.yaml. */
  canApplyPolicy: boolean;
  hints: HintView[];
  questions: QuestionView[];
  /** The learner's last answers to this step's questions. */
  answers: Record<string, string>;
  /** The latest check, if any. */
  result?: CheckResult & { checkedAt: string };
  /** Points earned so far: best check score (less what repeated checks had cost by then) less the cost of hints taken, 0 to 1. */
  score: number;
  /**
   * Answer steps only (steps with questions): repeated checks cost points after a few free ones.
   * `nextCost` is the share of the step the next press of Check costs (0 while free or once
   * passed), `freeLeft` the free checks left, `cost` what each check after them costs; shown before the press.
   */
  retry?: { nextCost: number; freeLeft: number; cost: number };
  /** Whether a check of this step has ever passed. */
  passed: boolean;
}

export interface RunView {
  cluster: string;
  provider: string;
  startedAt: string;
  /** Set once the run's cluster was gone and a freshly seeded one took its place (progress kept). */
  recovered?: { at: string; from: string; reason: string };
  /** When the run ends on the server (its cluster given back, its progress kept). */
  expiresAt: string;
  /** The server's clock when it answered: the page counts down from it, not from its own clock. */
  serverTime: string;
  /**
   * What Extend adds now (`minutes`, 0 once the run is at its maximum), how many minutes all
   * further extensions may still add, the latest deadline and the run's maximum length.
   */
  extend: { minutes: number; minutesLeft: number; latestExpiresAt: string; maxMinutes: number };
}

/** A link to what comes after a lab. */
export interface NextLink {
  title: string;
  href: string;
}

/** What to do after this lab: its lesson, the lesson's quiz, another lab (computed on the server). */
export interface LabNext {
  lesson: NextLink;
  quiz?: NextLink;
  lab?: NextLink;
}

/** How a completed run went (every step passed). */
export interface CompletionView {
  /** When the last step first passed. */
  completedAt: string;
  /** From the run's start to `completedAt`. */
  seconds: number;
  hintsUsed: number;
  /** Every press of Check in the run. */
  checks: number;
}

export interface LabView {
  slug: string;
  title: string;
  summary: string;
  /** The engine the lab runs on and what it means; `unavailable` when it cannot start here. */
  engine: LabEngineView;
  steps: StepView[];
  run?: RunView;
  /** The learner's last run ended by its time limit (and no run is going): when, and its score. */
  expired?: { at: string; score: number };
  /** Present once every step of the running lab has passed. */
  completion?: CompletionView;
  next?: LabNext;
  /** Mean of the steps' scores, 0 to 1. */
  score: number;
}
