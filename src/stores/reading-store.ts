import { create } from 'zustand';
import { persist } from 'zustand/middleware';

/**
 * What the learner has read: the section in view now, and per lesson the sections already
 * scrolled past. Kept in localStorage so the TOC shows progress across visits; the server keeps
 * graded progress (labs, quizzes) separately.
 */
interface ReadingState {
  activeSlug: string | undefined;
  seen: Record<string, string[]>;
  setActive: (lesson: string, slug: string) => void;
}

export const useReadingStore = create<ReadingState>()(
  persist(
    (set) => ({
      activeSlug: undefined,
      seen: {},
      setActive: (lesson, slug) =>
        set((state) => {
          const already = state.seen[lesson] ?? [];
          return {
            activeSlug: slug,
            seen: already.includes(slug) ? state.seen : { ...state.seen, [lesson]: [...already, slug] },
          };
        }),
    }),
    { name: 'irlab-reading', partialize: (state) => ({ seen: state.seen }) },
  ),
);
