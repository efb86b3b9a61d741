import { create } from 'zustand';

/**
 * Text a page asks the learner's terminal to type: "Run in terminal" on a command in a step or
 * hint. The terminal that is the page's main one takes each request once (by its id) and sends it
 * to its shell; nothing here reaches the server by itself.
 */
export interface TerminalInputRequest {
  /** Increases with every request, so the same command twice is two requests. */
  id: number;
  text: string;
  /** Press Enter after the text (Run); without it the text waits at the prompt (Paste). */
  submit: boolean;
}

interface TerminalInputState {
  pending: TerminalInputRequest | undefined;
  send: (text: string, submit: boolean) => void;
  /** Called by the terminal once it has sent the request to its shell. */
  taken: (id: number) => void;
}

export const useTerminalInput = create<TerminalInputState>()((set, get) => ({
  pending: undefined,
  send: (text, submit) => set({ pending: { id: (get().pending?.id ?? 0) + 1, text, submit } }),
  taken: (id) => {
    if (get().pending?.id === id) set({ pending: undefined });
  },
}));
