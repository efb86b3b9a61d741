/**
 * The browser side of `/ws/drills/<id>` without any UI: authenticates (facilitator), says hello
 * with the last log seq it holds, hands every server message on, and reconnects with backoff,
 * resuming after that seq. The drill store wires it to React; unit tests drive it with a fake
 * socket and fake timers (the socket is passed in, like the terminal client's).
 */
import type { DrillClientMessage, DrillServerMessage } from './drill-view.ts';
import type { SocketLike } from './terminal-client.ts';

/** What the connection indicator says, in words and as a state. */
export type DrillConnection = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'failed';

export interface DrillSocketOptions {
  url: string;
  createSocket: (url: string) => SocketLike;
  /** The facilitator's token, sent as the first frame (never in the URL). */
  token?: string | null;
  /** The highest log seq the caller holds: hello resumes after it. */
  lastSeq: () => number;
  onMessage: (message: DrillServerMessage) => void;
  onStatus: (status: DrillConnection, detail: string) => void;
  timers?: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
  /** Longest wait between reconnection attempts. */
  maxDelayMs?: number;
}

const OPEN = 1;

export class DrillSocket {
  private readonly o: DrillSocketOptions & Required<Pick<DrillSocketOptions, 'timers' | 'maxDelayMs'>>;
  private socket: SocketLike | null = null;
  private attempts = 0;
  private retryTimer: unknown = null;
  private stopped = false;
  private status: DrillConnection = 'connecting';

  constructor(options: DrillSocketOptions) {
    this.o = {
      timers: { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
      maxDelayMs: 10_000,
      ...options,
    };
  }

  get currentStatus(): DrillConnection {
    return this.status;
  }

  connect(): void {
    this.stopped = false;
    this.clearRetry();
    const old = this.socket;
    this.socket = null;
    old?.close();
    const socket = this.o.createSocket(this.o.url);
    this.socket = socket;
    socket.onopen = () => {
      if (this.o.token) this.send({ type: 'auth', token: this.o.token });
      this.send({ type: 'hello', afterSeq: this.o.lastSeq() });
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket || typeof event.data !== 'string') return;
      let message: DrillServerMessage;
      try {
        message = JSON.parse(event.data) as DrillServerMessage;
      } catch {
        return;
      }
      if (message.type === 'error') {
        // The server refused us (not allowed, no such drill): retrying would not change that.
        this.stopped = true;
        this.setStatus('failed', message.error);
        socket.close(1000, 'refused');
        return;
      }
      if (message.type === 'snapshot') {
        this.attempts = 0;
        this.setStatus('live', 'Live: new log entries appear as they happen.');
      }
      this.o.onMessage(message);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.stopped || this.status === 'failed') return;
      if (event.code === 1008 || event.code === 4003 || event.code === 4004) {
        this.setStatus('failed', event.reason || 'The server closed the drill connection.');
        return;
      }
      this.scheduleRetry();
    };
    socket.onerror = () => {};
  }

  offline(): void {
    if (this.status === 'failed') return;
    this.stopped = true;
    this.clearRetry();
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setStatus('offline', 'Offline. The log catches up when the network is back.');
  }

  online(): void {
    if (this.status !== 'offline') return;
    this.attempts = 0;
    this.setStatus('reconnecting', 'Reconnecting…');
    this.connect();
  }

  dispose(): void {
    this.stopped = true;
    this.clearRetry();
    this.socket?.close(1000, 'page closed');
    this.socket = null;
  }

  private send(message: DrillClientMessage): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private scheduleRetry(): void {
    const delay = Math.min(this.o.maxDelayMs, 500 * 2 ** this.attempts++);
    this.setStatus('reconnecting', `Connection lost. Reconnecting in ${Math.ceil(delay / 1000)} s…`);
    this.retryTimer = this.o.timers.set(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.o.timers.clear(this.retryTimer);
    this.retryTimer = null;
  }

  private setStatus(status: DrillConnection, detail: string): void {
    this.status = status;
    this.o.onStatus(status, detail);
  }
}

/**
 * Folds entries into a log held in seq order, each seq once (a replay after a reconnect may
 * repeat entries the page already has). Seqs may skip numbers a caller is not shown.
 */
export function mergeLog<T extends { seq: number }>(log: readonly T[], incoming: readonly T[]): T[] {
  if (incoming.length === 0) return log as T[];
  const last = log.at(-1)?.seq ?? 0;
  // The common case, one new entry after the last: no copy of the map.
  if (incoming.length === 1 && incoming[0]!.seq > last) return [...log, incoming[0]!];
  const bySeq = new Map(log.map((entry) => [entry.seq, entry]));
  for (const entry of incoming) bySeq.set(entry.seq, entry);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The drill clock now, extrapolated from a server reading received at `receivedAt` (local ms). */
export function clockNow(clock: { elapsedMs: number; durationMs: number; running: boolean }, receivedAt: number, now: number): number {
  return clock.running ? clock.elapsedMs + Math.max(0, now - receivedAt) : clock.elapsedMs;
}

/** `m:ss` or `h:mm:ss`, with a sign for times before the drill started. */
export function formatClock(ms: number): string {
  const sign = ms < 0 ? '−' : '';
  const total = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`;
}
