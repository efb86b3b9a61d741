import { create } from 'zustand';
import type { LabView, StepView } from '../lib/lab-view.ts';

/**
 * Client state of one lab page: the server's view of the lab (the source of truth, refetched
 * after every action), which request is in flight, and the last error in words.
 */
interface LabState {
  slug: string;
  lab: LabView | undefined;
  busy: string | undefined;
  error: string | undefined;
  /** Answers being typed, before they are sent with a check. */
  drafts: Record<string, string>;
  load: (slug: string) => Promise<void>;
  act: (action: 'start' | 'reset' | 'check' | 'hint' | 'apply-policy' | 'extend', body?: Record<string, unknown>, busy?: string) => Promise<void>;
  /** Reset, then start again at once (a new cluster and incident): what the Reset dialog confirms. */
  restart: () => Promise<void>;
  setDraft: (question: string, value: string) => void;
}

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { headers: { 'content-type': 'application/json' }, ...init });
  const data = (await response.json().catch(() => ({}))) as T & { error?: string; hint?: string };
  if (!response.ok) throw new Error(data.error ? `${data.error}${data.hint ? ` (${data.hint})` : ''}` : `the server answered ${response.status}`);
  return data;
}

function mergeStep(lab: LabView, step: StepView): LabView {
  const steps = lab.steps.map((s) => (s.id === step.id ? step : s));
  return { ...lab, steps, score: steps.reduce((sum, s) => sum + s.score, 0) / steps.length };
}

export const useLabStore = create<LabState>()((set, get) => ({
  slug: '',
  lab: undefined,
  busy: undefined,
  error: undefined,
  drafts: {},
  load: async (slug) => {
    set({ slug, error: undefined });
    try {
      const lab = await call<LabView>(`/api/labs/${slug}`);
      const drafts = Object.assign({}, ...lab.steps.map((s) => s.answers)) as Record<string, string>;
      set({ lab, drafts: { ...drafts, ...get().drafts } });
    } catch (error) {
      set({ error: (error as Error).message });
    }
  },
  act: async (action, body, busy = action) => {
    const { slug } = get();
    set({ busy, error: undefined });
    try {
      const result = await call<LabView | StepView>(`/api/labs/${slug}/${action}`, { method: 'POST', body: JSON.stringify(body ?? {}) });
      const lab = get().lab;
      // A reset's answers belonged to the run that ended: the new run starts with empty fields.
      if (action === 'reset') set({ drafts: {} });
      if ('steps' in result) set({ lab: result });
      else if (lab) {
        const merged = mergeStep(lab, result);
        set({ lab: merged });
        // The last step passed: the completion (time, checks, what next) comes with the whole view.
        if (merged.run && !merged.completion && merged.steps.every((s) => s.passed)) await get().load(slug);
      }
    } catch (error) {
      set({ error: (error as Error).message });
    } finally {
      set({ busy: undefined });
    }
  },
  restart: async () => {
    await get().act('reset');
    // A reset that failed leaves the run as it was: no second cluster is asked for.
    if (!get().error && !get().lab?.run) await get().act('start');
  },
  setDraft: (question, value) => set((state) => ({ drafts: { ...state.drafts, [question]: value } })),
}));
