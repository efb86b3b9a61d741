import { create } from 'zustand';
import { persist } from 'zustand/middleware';

/**
 * The terminal island's display preferences, kept in localStorage and shared by every terminal
 * on a page (each island keeps its own connection status).
 */
interface TerminalState {
  /** xterm's screenReaderMode: output is mirrored into an accessible live region. */
  screenReader: boolean;
  /** Font size in px; keyboard users zoom the terminal without zooming the page. */
  fontSize: number;
  setScreenReader: (on: boolean) => void;
  setFontSize: (px: number) => void;
}

export const useTerminalStore = create<TerminalState>()(
  persist(
    (set) => ({
      screenReader: false,
      fontSize: 14,
      setScreenReader: (screenReader) => set({ screenReader }),
      setFontSize: (fontSize) => set({ fontSize: Math.min(28, Math.max(10, fontSize)) }),
    }),
    { name: 'irlab-terminal', partialize: (state) => ({ screenReader: state.screenReader, fontSize: state.fontSize }) },
  ),
);
