/**
 * The browser side of the terminal protocol, without any UI: connects, says hello with what it
 * already has, writes output in order exactly once, acknowledges what the screen has written
 * (flow control), resends input the server may have missed, and reconnects with backoff.
 * The Terminal island wires it to xterm; tests drive it with Node's own WebSocket.
 */
import {
  CLOSE_SESSION_GONE,
  CLOSE_TAKEN_OVER,
  MAX_INPUT_CHARS,
  PROTOCOL_VERSION,
  decodeOutputFrame,
  newClientId,
  type ServerMessage,
} from './terminal-protocol.ts';

/** What the learner is told, in this order of precedence. */
export type ConnectionStatus =
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'offline'
  | 'taken-over'
  | 'exited'
  | 'ended'
  | 'failed';

/** The part of a WebSocket this client uses (the browser's, or Node 24's global one). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface TerminalClientOptions {
  url: string;
  createSocket: (url: string) => SocketLike;
  /** Writes output to the screen and calls `done` once it is on screen (xterm's write callback). */
  write: (data: Uint8Array, done: () => void) => void;
  size: () => { cols: number; rows: number };
  onStatus: (status: ConnectionStatus, detail: string) => void;
  onHello?: (hello: Extract<ServerMessage, { t: 'hello' }>) => void;
  /** Output already on screen from an earlier page (restored snapshot): resume after it. */
  resumeFrom?: number;
  /** Acknowledge once this much output is on screen (or after ackDelayMs). */
  ackBytes?: number;
  ackDelayMs?: number;
  timers?: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
}

const OPEN = 1;
/** Inputs kept for resending; WebSocket loses only what was in flight when it died. */
const RESEND_WINDOW = 256;

export class TerminalClient {
  private readonly o: Required<Omit<TerminalClientOptions, 'onHello' | 'resumeFrom'>> & Pick<TerminalClientOptions, 'onHello'>;
  private socket: SocketLike | null = null;
  private status: ConnectionStatus = 'connecting';
  /** Highest output seq received (written or queued for writing): hello resumes after it. */
  private received: number;
  /** Highest output seq on screen: acks report it. */
  private written: number;
  private acked: number;
  private unackedBytes = 0;
  private ackTimer: unknown = null;
  private inputSeq = 0;
  private unconfirmed: Array<{ seq: number; data: string }> = [];
  private attempts = 0;
  private retryTimer: unknown = null;
  private stopped = false;
  private readonly clientId = newClientId();

  constructor(options: TerminalClientOptions) {
    this.o = {
      ackBytes: 32 * 1024,
      ackDelayMs: 25,
      timers: { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
      onHello: undefined,
      ...options,
    };
    this.received = this.written = this.acked = options.resumeFrom ?? 0;
  }

  get lastWrittenSeq(): number {
    return this.written;
  }
  get currentStatus(): ConnectionStatus {
    return this.status;
  }

  connect(): void {
    this.stopped = false;
    this.clearRetry();
    this.socket?.close();
    const socket = this.o.createSocket(this.o.url);
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      const { cols, rows } = this.o.size();
      socket.send(JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, clientId: this.clientId, lastOutputSeq: this.received, cols, rows }));
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      if (typeof event.data === 'string') this.onControl(JSON.parse(event.data) as ServerMessage);
      else this.onOutput(event.data as ArrayBuffer);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (event.code === CLOSE_TAKEN_OVER) return this.setStatus('taken-over', 'This session was opened in another tab or window.');
      if (event.code === CLOSE_SESSION_GONE || ['ended', 'failed', 'taken-over'].includes(this.status)) return;
      if (this.stopped) return;
      this.scheduleRetry();
    };
    socket.onerror = () => {};
  }

  /** Keystrokes and pastes; numbered so a reconnect resends exactly what the server missed. */
  sendInput(data: string): void {
    if (this.status === 'ended' || this.status === 'exited' || this.status === 'taken-over') return;
    for (let i = 0; i < data.length; i += MAX_INPUT_CHARS) {
      const message = { seq: ++this.inputSeq, data: data.slice(i, i + MAX_INPUT_CHARS) };
      this.unconfirmed.push(message);
      if (this.unconfirmed.length > RESEND_WINDOW) this.unconfirmed.shift();
      if (this.isOpen()) this.socket!.send(JSON.stringify({ t: 'input', ...message }));
    }
  }

  resize(cols: number, rows: number): void {
    if (this.isOpen()) this.socket!.send(JSON.stringify({ t: 'resize', cols, rows }));
  }

  /** The network went away (the browser's `offline` event): drop the socket, wait for online. */
  offline(): void {
    if (!this.reconnectable()) return;
    this.stopped = true;
    this.clearRetry();
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setStatus('offline', 'Offline. The terminal reconnects when the network is back; your shell keeps running.');
  }

  online(): void {
    if (this.status !== 'offline') return;
    this.attempts = 0;
    this.setStatus('reconnecting', 'Reconnecting…');
    this.connect();
  }

  /** After a takeover: take the session back to this tab (the other tab is told). */
  takeBack(): void {
    this.attempts = 0;
    this.setStatus('connecting', 'Connecting…');
    this.connect();
  }

  dispose(): void {
    this.stopped = true;
    this.clearRetry();
    if (this.ackTimer !== null) this.o.timers.clear(this.ackTimer);
    this.socket?.close(1000, 'page closed');
    this.socket = null;
  }

  private onControl(message: ServerMessage): void {
    switch (message.t) {
      case 'hello': {
        this.attempts = 0;
        // Input the server already applied is dropped; the rest is resent, in order.
        this.unconfirmed = this.unconfirmed.filter((m) => m.seq > message.lastInputSeq);
        for (const m of this.unconfirmed) this.socket?.send(JSON.stringify({ t: 'input', ...m }));
        this.acked = Math.min(this.acked, this.written);
        this.unackedBytes = 0;
        this.o.onHello?.(message);
        this.setStatus('connected', message.cluster ? `Connected to your shell; kubectl talks to cluster ${message.cluster}.` : 'Connected to your shell. No cluster is attached to it.');
        return;
      }
      case 'exit':
        this.setStatus('exited', `The shell exited (code ${message.code}).`);
        return;
      case 'error':
        if (message.code === 'taken-over') this.setStatus('taken-over', message.message);
        else if (message.code === 'session-gone') this.setStatus('ended', message.message);
        else if (message.code === 'bad-message') console.warn(`irlab terminal: ${message.message}`);
        else this.setStatus('failed', message.message);
        return;
    }
  }

  private onOutput(frame: ArrayBuffer): void {
    const chunk = decodeOutputFrame(frame);
    if (!chunk || chunk.seq <= this.received) return; // a replayed chunk we already have
    this.received = chunk.seq;
    const { seq, data } = chunk;
    this.o.write(data, () => {
      this.written = Math.max(this.written, seq);
      this.unackedBytes += data.byteLength;
      this.scheduleAck();
    });
  }

  private scheduleAck(): void {
    if (this.unackedBytes >= this.o.ackBytes) return this.sendAck();
    this.ackTimer ??= this.o.timers.set(() => this.sendAck(), this.o.ackDelayMs);
  }

  private sendAck(): void {
    if (this.ackTimer !== null) this.o.timers.clear(this.ackTimer);
    this.ackTimer = null;
    if (this.written <= this.acked || !this.isOpen()) return;
    this.acked = this.written;
    this.unackedBytes = 0;
    this.socket!.send(JSON.stringify({ t: 'ack', seq: this.written }));
  }

  private scheduleRetry(): void {
    const delay = Math.min(5_000, 250 * 2 ** this.attempts++);
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

  private reconnectable(): boolean {
    return !['ended', 'failed', 'taken-over', 'exited'].includes(this.status);
  }

  private isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  private setStatus(status: ConnectionStatus, detail: string): void {
    this.status = status;
    this.o.onStatus(status, detail);
  }
}
