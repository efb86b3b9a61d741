// The notes store's saving: debounced after typing, pinned blocks saved the same way, a flush
// with keepalive for a page going away, and a failed load that never sends the empty text over
// the learner's saved notes. fetch is replaced by a recorder; the clock is vitest's.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SAVE_DELAY_MS, useNotesStore } from './notes-store.ts';

interface Call {
  url: string;
  method: string;
  body: unknown;
  keepalive: boolean;
}
let calls: Call[];
let answer: (call: Call) => Response;

beforeEach(() => {
  vi.useFakeTimers();
  calls = [];
  answer = (call) => Response.json(call.method === 'PUT' ? { text: call.body, updatedAt: '2026-12-07T10:00:00.000Z' } : { text: 'saved before' });
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const call = { url, method: init.method ?? 'GET', body: init.body, keepalive: Boolean(init.keepalive) };
    calls.push(call);
    return answer(call);
  });
  useNotesStore.setState({ text: '', slug: undefined, status: 'loading', error: undefined, savedAt: undefined });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('notes store', () => {
  it('loads, then saves once typing pauses (one request for many keystrokes)', async () => {
    await useNotesStore.getState().load('l18');
    expect(useNotesStore.getState()).toMatchObject({ text: 'saved before', status: 'saved' });
    for (const text of ['a', 'ab', 'abc']) useNotesStore.getState().setText(text);
    expect(useNotesStore.getState().status).toBe('unsaved');
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS - 1);
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.filter((c) => c.method === 'PUT')).toEqual([{ url: '/api/labs/l18/notes', method: 'PUT', body: 'abc', keepalive: false }]);
    expect(useNotesStore.getState()).toMatchObject({ status: 'saved', savedAt: '2026-12-07T10:00:00.000Z' });
  });

  it('saves a pinned block, and flushes with keepalive when the page goes away', async () => {
    await useNotesStore.getState().load('l18');
    useNotesStore.getState().append('{"verb":"get"}');
    expect(useNotesStore.getState().text).toBe('saved before\n\n{"verb":"get"}');
    await useNotesStore.getState().flush({ keepalive: true });
    expect(calls.at(-1)).toMatchObject({ method: 'PUT', body: 'saved before\n\n{"verb":"get"}', keepalive: true });
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS * 2);
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
  });

  it('never overwrites the saved notes after a failed load, and says why a save failed', async () => {
    answer = () => Response.json({ error: 'the lab service failed' }, { status: 500 });
    await useNotesStore.getState().load('l18');
    expect(useNotesStore.getState()).toMatchObject({ status: 'error', text: '' });
    await useNotesStore.getState().flush({ keepalive: true });
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0);
    answer = () => Response.json({ error: 'your case notes are 61 KiB and can hold 60 KiB: nothing was saved' }, { status: 413 });
    useNotesStore.getState().setText('x');
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS);
    expect(useNotesStore.getState()).toMatchObject({ status: 'error', error: expect.stringMatching(/not saved: your case notes are 61 KiB/) });
  });
});
