import { useId } from 'react';
import { useNotesStore } from '../../stores/notes-store.ts';

/** The Notes tab: the learner's case notes for this run. */
export function NotesTab() {
  const { text, setText } = useNotesStore();
  const id = useId();
  return (
    <div className="lab-notes">
      <label htmlFor={id}>Case notes</label>
      <textarea id={id} value={text} onChange={(e) => setText(e.target.value)} rows={20} spellCheck />
    </div>
  );
}
