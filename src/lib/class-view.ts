/**
 * What the instructor's class dashboard shows (JSON from /api/classes/<id>/dashboard, the CSV
 * export, the island): per learner and assigned lab step, status, score, time, hints, checks; quiz
 * status and score; who is stuck. Pure types, shared by the server and the browser.
 */

export type StepStatus = 'not started' | 'failing' | 'passed';

export interface StepCell {
  step: string;
  title: string;
  status: StepStatus;
  /** 0..100, whole (the learner's own step score: checks, retry costs and hints counted). */
  scorePercent: number;
  /** Whole minutes on the step: from the run's start or the previous step's pass, to this step's pass or now. */
  minutes: number;
  hints: number;
  checks: number;
}

export interface LabCell {
  slug: string;
  title: string;
  dueAt: string | undefined;
  /** Whether the learner has a run of it now (not ended). */
  running: boolean;
  scorePercent: number;
  steps: StepCell[];
}

export type QuizStatus = 'not started' | 'in progress' | 'submitted';

export interface QuizCell {
  slug: string;
  title: string;
  dueAt: string | undefined;
  status: QuizStatus;
  /** Of the latest submitted attempt, 0..100 whole; null before one. */
  scorePercent: number | null;
}

export interface StuckFlag {
  lab: string;
  step: string;
  stepTitle: string;
  minutes: number;
}

export interface DashboardLearner {
  id: string;
  name: string;
  /** The learner's last check of their current step failed and they have been on it past the class's threshold. */
  stuck: StuckFlag | null;
  /** A live lab terminal the instructor may watch. */
  watchable: boolean;
  labs: LabCell[];
  quizzes: QuizCell[];
}

export interface DashboardView {
  /** `schedule`: when it runs and how many to expect (warm pools are sized from it); absent until set. */
  class: { id: string; name: string; joinCode: string; joinUrl: string; closed: boolean; stuckAfterSeconds: number; schedule?: { startsAt: string; endsAt: string; expectedLearners: number } };
  assignments: Array<{ kind: 'lab' | 'quiz'; slug: string; title: string; dueAt: string | undefined }>;
  learners: DashboardLearner[];
}

/** The dashboard's polling answer carries no clock: an unchanged view keeps its ETag (304). */
export const DASHBOARD_POLL_MS = 3000;

/** The learner's lab page: messages from their instructors, and whether someone watches their terminal. */
export interface ClassNotices {
  watched: boolean;
  notices: Array<{ id: string; className: string; toClass: boolean; text: string; sentAt: string }>;
}
