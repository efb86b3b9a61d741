import { create } from 'zustand';
import { engineBusy, type EngineStatus } from '../lib/engine-status.ts';

/**
 * The cluster engine's status for this page (`GET /api/engine`), polled while the engine is being
 * built: the progress island shows it, and LabPanel keeps Start disabled until it is ready.
 * Unknown (not asked yet, or the server did not answer) blocks nothing: Start then says itself
 * what is wrong.
 */
interface EngineState {
  status: EngineStatus | undefined;
  /** Whether a start now would be refused because the engine is on its way. */
  busy: boolean;
  /** Starts polling (once per page, however many islands ask). */
  watch: () => void;
}

const POLL_MS = 2000;

export const useEngineStore = create<EngineState>()((set, get) => {
  let watching = false;
  const poll = async (): Promise<void> => {
    try {
      const response = await fetch('/api/engine', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      const status = (await response.json()) as EngineStatus;
      set({ status, busy: engineBusy(status) });
    } catch {
      // A server being restarted: keep what we know and ask again.
    }
    if (get().busy || get().status === undefined) setTimeout(() => void poll(), POLL_MS);
    else watching = false;
  };
  return {
    status: undefined,
    busy: false,
    watch: () => {
      if (watching) return;
      watching = true;
      void poll();
    },
  };
});
