/**
 * What a lab run keeps besides its steps: the learner's case notes and the facts of a completed
 * run (how long it took, hints taken, checks pressed). Plain SQL over the run's id; whose run it
 * is was settled by the caller (a learner only ever reaches runs of their own).
 */
import type { CompletionView } from '../../lib/lab-view.ts';
import type { Store } from '../store/database.ts';

/**
 * Case notes are text the learner types and pins events into. The cap keeps a run's row small
 * and lets the page's last save on leaving (a keepalive request, which browsers cap at 64 KiB
 * in flight) carry all of it.
 */
export const MAX_NOTES_BYTES = 60 * 1024;

export interface NotesRecord {
  text: string;
  /** Absent until the first save. */
  updatedAt?: string;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;

/** Why `text` cannot be kept as notes, or undefined when it can. */
export function notesProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'case notes must be text';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_NOTES_BYTES) {
    return `your case notes are ${kib(bytes)} and can hold ${kib(MAX_NOTES_BYTES)}: nothing was saved; shorten them, or keep long output in a file of your workspace (the Files tab shows it) and note its name`;
  }
  return undefined;
}

export function readNotes(store: Store, runId: string): NotesRecord {
  const row = store.prepare('SELECT text, updated_at FROM lab_notes WHERE run_id = ?').get(runId) as { text: string; updated_at: string } | undefined;
  return row ? { text: row.text, updatedAt: row.updated_at } : { text: '' };
}

export function writeNotes(store: Store, runId: string, text: string, at: string): NotesRecord {
  store
    .prepare('INSERT INTO lab_notes (run_id, text, updated_at) VALUES (?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at')
    .run(runId, text, at);
  return { text, updatedAt: at };
}

/** A new run of a lab starts with the notes of the learner's previous run of it (a reset keeps them). */
export function carryNotes(store: Store, fromRunId: string | undefined, toRunId: string, at: string): void {
  if (!fromRunId) return;
  const { text } = readNotes(store, fromRunId);
  if (text) writeNotes(store, toRunId, text, at);
}

/**
 * How a run went once every step has passed: when the last step first passed, the time from the
 * start, hints taken and checks pressed. Undefined while a step is still open.
 */
export function completionOf(store: Store, run: { id: string; started_at: string }, stepIds: string[]): CompletionView | undefined {
  const firstPasses = store
    .prepare('SELECT step, MIN(checked_at) AS at FROM lab_results WHERE run_id = ? AND passed = 1 GROUP BY step')
    .all(run.id) as Array<{ step: string; at: string }>;
  const passed = new Map(firstPasses.map((r) => [r.step, r.at]));
  if (stepIds.length === 0 || !stepIds.every((id) => passed.has(id))) return undefined;
  const completedAt = stepIds.map((id) => passed.get(id)!).sort().at(-1)!;
  const hints = store.prepare('SELECT COUNT(*) AS n FROM lab_hints WHERE run_id = ?').get(run.id) as { n: number };
  const checks = store.prepare('SELECT COUNT(*) AS n FROM lab_results WHERE run_id = ?').get(run.id) as { n: number };
  return {
    completedAt,
    seconds: Math.max(0, Math.round((Date.parse(completedAt) - Date.parse(run.started_at)) / 1000)),
    hintsUsed: Number(hints.n),
    checks: Number(checks.n),
  };
}
