import { describe, expect, it } from 'vitest';
import { clockNow, DrillSocket, formatClock, mergeLog, type DrillConnection } from './drill-socket.ts';
import type { DrillServerMessage, DrillView, LogEntry } from './drill-view.ts';
import type { SocketLike } from './terminal-client.ts';

class FakeSocket implements SocketLike {
  binaryType = 'blob';
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: DrillServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

function harness(token: string | null = null) {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const statuses: DrillConnection[] = [];
  const messages: DrillServerMessage[] = [];
  let last = 0;
  const client = new DrillSocket({
    url: 'ws://irlab/ws/drills/d1',
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    token,
    lastSeq: () => last,
    onMessage: (m) => messages.push(m),
    onStatus: (s) => statuses.push(s),
    timers: { set: (fn, ms) => timers.push({ fn, ms }) - 1, clear: () => {} },
  });
  return { client, sockets, timers, statuses, messages, setLast: (n: number) => (last = n) };
}

const entry = (seq: number): LogEntry => ({ seq, at: '2026-01-01T00:00:00Z', tMs: seq * 1000, kind: 'note', author: null, title: '', body: `n${seq}` });

describe('DrillSocket', () => {
  it('authenticates a facilitator in the first frame, then says hello with the last seq', () => {
    const h = harness('secret-token');
    h.setLast(7);
    h.client.connect();
    h.sockets[0]!.open();
    expect(h.sockets[0]!.url).not.toContain('secret-token');
    expect(h.sockets[0]!.sent.map((s) => JSON.parse(s))).toEqual([{ type: 'auth', token: 'secret-token' }, { type: 'hello', afterSeq: 7 }]);
  });

  it('a participant sends hello only', () => {
    const h = harness();
    h.client.connect();
    h.sockets[0]!.open();
    expect(h.sockets[0]!.sent.map((s) => JSON.parse(s))).toEqual([{ type: 'hello', afterSeq: 0 }]);
  });

  it('reconnects with growing delays and resumes after the last seq it holds', () => {
    const h = harness();
    h.client.connect();
    h.sockets[0]!.open();
    h.sockets[0]!.receive({ type: 'snapshot', drill: { log: [] } as unknown as DrillView });
    expect(h.statuses.at(-1)).toBe('live');
    h.setLast(12);
    h.sockets[0]!.drop();
    expect(h.statuses.at(-1)).toBe('reconnecting');
    h.timers.at(-1)!.fn();
    h.sockets[1]!.drop();
    h.timers.at(-1)!.fn();
    expect(h.timers.map((t) => t.ms)).toEqual([500, 1000]);
    h.sockets[2]!.open();
    expect(JSON.parse(h.sockets[2]!.sent[0]!)).toEqual({ type: 'hello', afterSeq: 12 });
    // A snapshot resets the backoff.
    h.sockets[2]!.receive({ type: 'snapshot', drill: { log: [] } as unknown as DrillView });
    h.sockets[2]!.drop();
    expect(h.timers.at(-1)!.ms).toBe(500);
  });

  it('stops when the server refuses (an error frame), and says why', () => {
    const h = harness();
    h.client.connect();
    h.sockets[0]!.open();
    h.sockets[0]!.receive({ type: 'error', error: 'You are not in this drill.' });
    h.sockets[0]!.drop(1000);
    expect(h.statuses.at(-1)).toBe('failed');
    expect(h.timers).toHaveLength(0);
    expect(h.messages).toHaveLength(0);
  });

  it('goes offline without retrying and reconnects when online again', () => {
    const h = harness();
    h.client.connect();
    h.client.offline();
    expect(h.statuses.at(-1)).toBe('offline');
    expect(h.timers).toHaveLength(0);
    h.client.online();
    expect(h.sockets).toHaveLength(2);
  });
});

describe('mergeLog', () => {
  it('appends, drops repeats from a replay and keeps seq order', () => {
    expect(mergeLog([entry(1), entry(2)], [entry(3)]).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeLog([entry(1), entry(2), entry(3)], [entry(2), entry(3), entry(5), entry(4)]).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(mergeLog([entry(1)], [entry(1)]).map((e) => e.seq)).toEqual([1]);
  });
});

describe('the drill clock', () => {
  it('advances from the reading only while running', () => {
    expect(clockNow({ elapsedMs: 60_000, durationMs: 3_600_000, running: true }, 1_000, 6_000)).toBe(65_000);
    expect(clockNow({ elapsedMs: 60_000, durationMs: 3_600_000, running: false }, 1_000, 6_000)).toBe(60_000);
  });
  it('formats minutes, hours and times before the start', () => {
    expect(formatClock(65_000)).toBe('1:05');
    expect(formatClock(3_725_000)).toBe('1:02:05');
    expect(formatClock(-90_000)).toBe('−1:30');
  });
});
