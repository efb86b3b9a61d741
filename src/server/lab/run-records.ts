/**
 * What a lab run keeps besides its steps: the learner's case notes and the facts of a completed
 * run (how long it took, hints taken, checks pressed). Plain SQL over the run's id; whose run it
 * is was settled by the caller (a learner only ever reaches runs of their own).
 */
import type { CompletionView } from '../../lib/lab-view.ts';
import type { SqlQueries } from '../store/sql-store.ts';

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

export async function readNotes(store: SqlQueries, runId: string): Promise<NotesRecord> {
  const row = await store.get<{ text: string; updated_at: string }>('SELECT text, updated_at FROM lab_notes WHERE run_id = ?', [runId]);
  return row ? { text: row.text, updatedAt: row.updated_at } : { text: '' };
}

export async function writeNotes(store: SqlQueries, runId: string, text: string, at: string): Promise<NotesRecord> {
  await store.run('INSERT INTO lab_notes (run_id, text, updated_at) VALUES (?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at', [runId, text, at]);
  return { text, updatedAt: at };
}

/** A new run of a lab starts with the notes of the learner's previous run of it (a reset keeps them). */
export async function carryNotes(store: SqlQueries, fromRunId: string | undefined, toRunId: string, at: string): Promise<void> {
  if (!fromRunId) return;
  const { text } = await readNotes(store, fromRunId);
  if (text) await writeNotes(store, toRunId, text, at);
}

/**
 * How a run went once every step has passed: when the last step first passed, the time from the
 * start, hints taken and checks pressed. Undefined while a step is still open.
 */
export async function completionOf(store: SqlQueries, run: { id: string; started_at: string }, stepIds: string[]): Promise<CompletionView | undefined> {
  const firstPasses = await store.all<{ step: string; at: string }>('SELECT step, MIN(checked_at) AS at FROM lab_results WHERE run_id = ? AND passed = 1 GROUP BY step', [run.id]);
  const passed = new Map(firstPasses.map((r) => [r.step, r.at]));
  if (stepIds.length === 0 || !stepIds.every((id) => passed.has(id))) return undefined;
  const completedAt = stepIds.map((id) => passed.get(id)!).sort().at(-1)!;
  const [hints, checks] = await Promise.all([
    store.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM lab_hints WHERE run_id = ?', [run.id]),
    store.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM lab_results WHERE run_id = ?', [run.id]),
  ]);
  return {
    completedAt,
    seconds: Math.max(0, Math.round((Date.parse(completedAt) - Date.parse(run.started_at)) / 1000)),
    hintsUsed: Number(hints?.n ?? 0),
    checks: Number(checks?.n ?? 0),
  };
}
