import { create } from 'zustand';

/**
 * The learner's case notes for the lab run on this page: the Notes tab edits them, the Audit log
 * tab pins events into them.
 */
interface NotesState {
  text: string;
  setText: (text: string) => void;
  /** Adds a block at the end (a pinned event), separated by a blank line. */
  append: (block: string) => void;
}

export const useNotesStore = create<NotesState>()((set) => ({
  text: '',
  setText: (text) => set({ text }),
  append: (block) => set((state) => ({ text: state.text.trim() ? `${state.text.trimEnd()}\n\n${block}` : block })),
}));
