import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { ConnectionStatus } from '../lib/terminal-client.ts';

/**
 * The terminal island's client state: the learner's display preferences (kept in localStorage)
 * and the live connection status the toolbar and the status line show.
 */
interface TerminalState {
  /** xterm's screenReaderMode: output is mirrored into an accessible live region. */
  screenReader: boolean;
  /** Font size in px; keyboard users zoom the terminal without zooming the page. */
  fontSize: number;
  status: ConnectionStatus;
  /** The sentence announced for the status (aria-live). */
  detail: string;
  /** Columns × rows of the shell's PTY, as last sent to the server. */
  size: { cols: number; rows: number };
  cluster: string | null;
  setScreenReader: (on: boolean) => void;
  setFontSize: (px: number) => void;
  setStatus: (status: ConnectionStatus, detail: string) => void;
  setSize: (cols: number, rows: number) => void;
  setCluster: (cluster: string | null) => void;
}

export const useTerminalStore = create<TerminalState>()(
  persist(
    (set) => ({
      screenReader: false,
      fontSize: 14,
      status: 'connecting',
      detail: 'Starting your shell…',
      size: { cols: 80, rows: 24 },
      cluster: null,
      setScreenReader: (screenReader) => set({ screenReader }),
      setFontSize: (fontSize) => set({ fontSize: Math.min(28, Math.max(10, fontSize)) }),
      setStatus: (status, detail) => set({ status, detail }),
      setSize: (cols, rows) => set({ size: { cols, rows } }),
      setCluster: (cluster) => set({ cluster }),
    }),
    { name: 'irlab-terminal', partialize: (state) => ({ screenReader: state.screenReader, fontSize: state.fontSize }) },
  ),
);
