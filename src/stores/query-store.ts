import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { DEFAULT_COLUMNS } from '../lib/query/columns.ts';
import { QueryError } from '../lib/query/errors.ts';
import { parseQuery } from '../lib/query/parser.ts';
import type { QueryOutput } from '../lib/query/pipeline.ts';
import type { Summary } from '../lib/query/summary.ts';

/** What POST /api/query answers (the shape of src/server/query/http.ts, restated for the browser). */
export interface QueryAnswer {
  output: QueryOutput;
  summary: Summary;
  flagged: { username: string; rules: string[] }[];
  scan: { lines: number; bytes: number; malformed: number; malformedLines: { line: number; reason: string }[]; ms: number };
}

export interface QueryProblem {
  message: string;
  column?: number;
  length?: number;
  hint?: string;
}

interface QueryState {
  query: string;
  /** Identities the learner marked as suspicious, per source; shaded in the timeline. */
  marked: Record<string, string[]>;
  status: 'idle' | 'running' | 'done' | 'error';
  answer: QueryAnswer | undefined;
  problem: QueryProblem | undefined;
  /** Index of the event whose JSON is open. */
  open: number | undefined;
  /** Ids of the events table's columns (src/lib/query/columns.ts), remembered in this browser. */
  columns: string[];
  setColumns: (columns: string[]) => void;
  setQuery: (query: string) => void;
  toggleMark: (source: string, username: string) => void;
  setOpen: (index: number | undefined) => void;
  run: (source: string, fetcher?: typeof fetch) => Promise<void>;
}

export const useQueryStore = create<QueryState>()(
  persist(
    (set, get) => ({
      query: '',
      marked: {},
      status: 'idle',
      answer: undefined,
      problem: undefined,
      open: undefined,
      columns: [...DEFAULT_COLUMNS],
      setColumns: (columns) => set({ columns }),
      setQuery: (query) => set({ query }),
      setOpen: (open) => set({ open }),
      toggleMark: (source, username) =>
        set((state) => {
          const current = state.marked[source] ?? [];
          const next = current.includes(username) ? current.filter((u) => u !== username) : [...current, username];
          return { marked: { ...state.marked, [source]: next } };
        }),
      run: async (source, fetcher = fetch) => {
        const { query, marked } = get();
        // The parser is shared with the server: mistakes are shown at once, without a round trip.
        try {
          parseQuery(query);
        } catch (error) {
          if (error instanceof QueryError) {
            set({ status: 'error', problem: { message: error.message, column: error.column, length: error.length, hint: error.hint } });
            return;
          }
          throw error;
        }
        set({ status: 'running', problem: undefined });
        try {
          const response = await fetcher('/api/query', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ source, query, highlight: marked[source] ?? [], limit: 200 }),
          });
          const body = (await response.json()) as ({ ok: true } & QueryAnswer) | { ok?: false; error: QueryProblem | string };
          // A front answering for a server that stopped says `{error: "..."}`, as its other routes do.
          if (!body.ok) set({ status: 'error', problem: typeof body.error === 'string' ? { message: body.error } : body.error });
          else set({ status: 'done', answer: body, open: undefined });
        } catch (error) {
          set({ status: 'error', problem: { message: `the server did not answer: ${(error as Error).message}`, hint: 'check that irlab is still running, then run again' } });
        }
      },
    }),
    { name: 'irlab-query', partialize: (state) => ({ query: state.query, marked: state.marked, columns: state.columns }) },
  ),
);
