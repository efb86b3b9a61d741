import { create } from 'zustand';

/** Saved: the server has this text. Unsaved: changed since. Saving: on its way. Error: the last save failed (`error` says why). */
export type NotesStatus = 'loading' | 'saved' | 'unsaved' | 'saving' | 'error';

/** How long typing must pause before the notes are saved. */
export const SAVE_DELAY_MS = 800;

/**
 * The learner's case notes for the lab run on this page: the Notes tab edits them, the Audit log
 * tab pins events into them (`append`). Every change is saved to the server with the run
 * (debounced); `flush` saves at once, with `keepalive` when the page is going away.
 */
interface NotesState {
  text: string;
  setText: (text: string) => void;
  /** Adds a block at the end (a pinned event), separated by a blank line. */
  append: (block: string) => void;
  /** The lab whose notes these are (set by `load`); nothing is saved before it is known. */
  slug: string | undefined;
  status: NotesStatus;
  error: string | undefined;
  savedAt: string | undefined;
  /** Fetches the notes of `slug` (unless there are unsaved changes to keep). */
  load: (slug: string) => Promise<void>;
  /** Saves now if anything is unsaved. */
  flush: (options?: { keepalive?: boolean }) => Promise<void>;
}

const notesUrl = (slug: string) => `/api/labs/${encodeURIComponent(slug)}/notes`;

export const useNotesStore = create<NotesState>()((set, get) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let saving: Promise<void> | undefined;
  // Changed since the server last had the text: only then is anything sent (a failed load must
  // never send the empty text over the learner's saved notes).
  let dirty = false;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void get().flush(), SAVE_DELAY_MS);
  };
  const edit = (text: string) => {
    dirty = true;
    set({ text, status: get().slug ? 'unsaved' : get().status });
    if (get().slug) schedule();
  };
  return {
    text: '',
    setText: edit,
    append: (block) => {
      const { text } = get();
      edit(text.trim() ? `${text.trimEnd()}\n\n${block}` : block);
    },
    slug: undefined,
    status: 'loading',
    error: undefined,
    savedAt: undefined,
    load: async (slug) => {
      set({ slug });
      try {
        const response = await fetch(notesUrl(slug));
        const data = (await response.json()) as { text?: string; updatedAt?: string; error?: string };
        if (!response.ok) throw new Error(data.error ?? `the server answered ${response.status}`);
        // Typed (or pinned) while the notes loaded: the learner's newer text wins and is saved.
        if (dirty) return schedule();
        set({ text: data.text ?? '', status: 'saved', error: undefined, savedAt: data.updatedAt });
      } catch (error) {
        set({ status: 'error', error: `your notes could not be loaded: ${(error as Error).message}` });
      }
    },
    flush: async ({ keepalive = false } = {}) => {
      clearTimeout(timer);
      const { slug } = get();
      if (!slug || !dirty) return;
      // One save at a time; a change made meanwhile is saved after it.
      if (saving && !keepalive) {
        await saving;
        return get().flush();
      }
      const text = get().text;
      set({ status: 'saving' });
      const request = (async () => {
        try {
          const response = await fetch(notesUrl(slug), { method: 'PUT', body: text, headers: { 'content-type': 'text/plain; charset=utf-8' }, keepalive });
          const data = (await response.json().catch(() => ({}))) as { updatedAt?: string; error?: string };
          if (!response.ok) throw new Error(data.error ?? `the server answered ${response.status}`);
          if (get().text === text) {
            dirty = false;
            set({ status: 'saved', error: undefined, savedAt: data.updatedAt });
          }
          else {
            set({ status: 'unsaved' });
            schedule();
          }
        } catch (error) {
          set({ status: 'error', error: `not saved: ${(error as Error).message}` });
        }
      })();
      saving = request;
      await request.finally(() => {
        if (saving === request) saving = undefined;
      });
    },
  };
});
