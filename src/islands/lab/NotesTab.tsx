import { useEffect, useId } from 'react';
import { useLabStore } from '../../stores/lab-store.ts';
import { useNotesStore, type NotesStatus } from '../../stores/notes-store.ts';

/** As the server caps them (run-records.ts MAX_NOTES_BYTES). */
const MAX_NOTES_BYTES = 60 * 1024;

const STATUS: Record<NotesStatus, string> = { loading: 'Loading…', saved: 'Saved', unsaved: 'Unsaved changes', saving: 'Saving…', error: 'Not saved' };

/**
 * The Notes tab: the learner's case notes, kept with their run on the server. Saved a moment
 * after typing stops, and at once (keepalive) when the page is hidden or left, so a reload or a
 * closed tab loses nothing; pinned audit events arrive through the same store.
 */
export function NotesTab() {
  const slug = useLabStore((s) => s.slug);
  const running = useLabStore((s) => Boolean(s.lab?.run));
  const { text, setText, status, error, savedAt, load, flush } = useNotesStore();
  const id = useId();
  useEffect(() => {
    if (slug) void load(slug);
  }, [slug, load, running]);
  useEffect(() => {
    const leave = () => void flush({ keepalive: true });
    const hidden = () => document.visibilityState === 'hidden' && leave();
    window.addEventListener('pagehide', leave);
    document.addEventListener('visibilitychange', hidden);
    return () => {
      window.removeEventListener('pagehide', leave);
      document.removeEventListener('visibilitychange', hidden);
    };
  }, [flush]);
  const bytes = new TextEncoder().encode(text).length;
  const over = bytes > MAX_NOTES_BYTES;
  return (
    <div className="lab-notes">
      <div className="lab-notes-head">
        <label htmlFor={id}>Case notes</label>
        <span className={`lab-notes-status lab-notes-${status}`} data-testid="notes-status">
          {STATUS[status]}
          {status === 'saved' && savedAt ? ` at ${new Date(savedAt).toLocaleTimeString()}` : ''}
        </span>
      </div>
      <textarea
        id={id}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => void flush()}
        rows={20}
        spellCheck
        aria-describedby={`${id}-help`}
        aria-invalid={over || undefined}
      />
      <p id={`${id}-help`} className={over ? 'lab-error' : 'muted'}>
        {over
          ? `Your notes are ${(bytes / 1024).toFixed(1)} KiB and can hold ${MAX_NOTES_BYTES / 1024} KiB: shorten them, or keep long output in a file of your workspace (the Files tab shows it).`
          : `Kept with your lab run and carried over a reset; only you see them. ${(bytes / 1024).toFixed(1)} of ${MAX_NOTES_BYTES / 1024} KiB.`}
      </p>
      {error && status === 'error' && (
        <p className="lab-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
