/**
 * The dashboard as CSV (RFC 4180): one row per learner and assigned lab step, and per learner and
 * assigned quiz, with exactly the dashboard's figures. Cells are quoted when they hold a comma,
 * quote or line break, and a cell a spreadsheet would read as a formula (starting with = + - @, or
 * a tab or carriage return before one) gets a leading apostrophe: a learner named `=HYPERLINK(...)`
 * stays text.
 */
import type { DashboardView } from './class-view.ts';

export const CSV_HEADER = ['learner', 'kind', 'activity', 'step', 'status', 'score_percent', 'minutes', 'hints', 'checks', 'stuck'] as const;

export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows, as plain values (the tests compare them with the dashboard's cells). */
export function dashboardRows(view: DashboardView): Array<Array<string | number | null>> {
  const rows: Array<Array<string | number | null>> = [];
  for (const learner of view.learners) {
    for (const lab of learner.labs) {
      for (const step of lab.steps) {
        const stuck = learner.stuck?.lab === lab.slug && learner.stuck.step === step.step ? 'yes' : 'no';
        rows.push([learner.name, 'lab', lab.slug, step.step, step.status, step.scorePercent, step.minutes, step.hints, step.checks, stuck]);
      }
    }
    for (const quiz of learner.quizzes) rows.push([learner.name, 'quiz', quiz.slug, null, quiz.status, quiz.scorePercent, null, null, null, null]);
  }
  return rows;
}

export function dashboardCsv(view: DashboardView): string {
  return [CSV_HEADER as readonly string[], ...dashboardRows(view)].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
