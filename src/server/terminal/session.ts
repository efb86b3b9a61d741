/**
 * One learner's terminal session: a sandboxed shell on a PTY, its numbered output log, its
 * recording, and at most one browser connection. The manager (session-manager.ts) creates,
 * finds and reaps sessions; this file is the protocol state machine of one of them.
 */
import {
  CLOSE_PROTOCOL,
  CLOSE_TAKEN_OVER,
  PROTOCOL_VERSION,
  encodeOutputFrame,
  parseClientMessage,
  type ClientMessage,
  type ServerMessage,
} from '../../lib/terminal-protocol.ts';
import type { AsciicastRecorder } from './asciicast.ts';
import { OutputLog, type FlowLimits } from './output-log.ts';
import { OutputSplitter } from './output-splitter.ts';

/** The PTY as the session uses it (node-pty's IPty, narrowed; tests can drive a real one). */
export interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: Uint8Array) => void): void;
  onExit(listener: (exit: { exitCode: number; signal?: number }) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

/** A browser connection as the session uses it (a `ws` WebSocket, wrapped). */
export interface TerminalConnection {
  sendText(message: ServerMessage): void;
  sendBinary(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** A cluster handed to a session; `release` is called once when the session ends. */
export interface ClusterLease {
  name: string;
  kubeconfigPath: string;
  release(): Promise<void>;
}

export interface SessionInit {
  id: string;
  owner: string;
  /** The learner allowed to attach (default: the owner). Drill sessions are keyed per participant. */
  principal?: string;
  /** Sessions of one group (a drill) may watch each other read-only. */
  group?: string | null;
  /** Which of the owner's shells this is (1, or 2 for the lab page's second terminal). */
  slot?: number;
  pty: PtyProcess;
  lease: ClusterLease | null;
  recorder: AsciicastRecorder | null;
  flow: FlowLimits;
  now: () => number;
  expiresAt: number;
  cols: number;
  rows: number;
  /** Called once when the session ends, after the hang-up: ends what is left of the shell, frees its uid and cgroup. */
  dispose?: () => Promise<void>;
}

export class TerminalSession {
  readonly id: string;
  readonly owner: string;
  readonly principal: string;
  readonly group: string | null;
  readonly slot: number;
  readonly lease: ClusterLease | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  private readonly pty: PtyProcess;
  private readonly recorder: AsciicastRecorder | null;
  private readonly log: OutputLog;
  private readonly splitter = new OutputSplitter();
  private readonly now: () => number;
  private readonly dispose: (() => Promise<void>) | undefined;
  private connection: TerminalConnection | null = null;
  /** Read-only viewers (drill teammates): output only, never input, no say in flow control. */
  private readonly watchers = new Set<TerminalConnection>();
  /** Last input seq applied, per client (page load); the attached client's is the one that counts. */
  private readonly inputSeqs = new Map<string, number>();
  private clientId = '';
  private paused = false;
  private cols: number;
  private rows: number;
  /** When the last browser went away (null while one is attached). */
  detachedSince: number | null;
  exit: { code: number; signal: number | null } | null = null;
  /** Peak of the output log's memory, for the health endpoint and the bench. */
  peakRetainedBytes = 0;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.owner = init.owner;
    this.principal = init.principal ?? init.owner;
    this.group = init.group ?? null;
    this.slot = init.slot ?? 1;
    this.lease = init.lease;
    this.pty = init.pty;
    this.recorder = init.recorder;
    this.log = new OutputLog(init.flow);
    this.now = init.now;
    this.dispose = init.dispose;
    this.createdAt = init.now();
    this.detachedSince = this.createdAt;
    this.expiresAt = init.expiresAt;
    this.cols = init.cols;
    this.rows = init.rows;
    this.pty.onData((data) => this.onOutput(data));
    this.pty.onExit(({ exitCode, signal }) => this.onExit(exitCode, signal ?? null));
  }

  get pid(): number {
    return this.pty.pid;
  }
  get attached(): boolean {
    return this.connection !== null;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  get retainedBytes(): number {
    return this.log.retainedBytes;
  }

  /**
   * A browser sent `hello`. The newest connection wins: an older one is told it was taken over
   * and closed (its tab says so and does not reconnect by itself).
   */
  attach(connection: TerminalConnection, hello: Extract<ClientMessage, { t: 'hello' }>): void {
    if (hello.v !== PROTOCOL_VERSION) {
      connection.sendText({ t: 'error', code: 'version', message: `This page speaks terminal protocol ${hello.v}; the server speaks ${PROTOCOL_VERSION}. Reload the page.` });
      connection.close(CLOSE_PROTOCOL, 'protocol version');
      return;
    }
    const previous = this.connection;
    if (previous && previous !== connection) {
      previous.sendText({ t: 'error', code: 'taken-over', message: 'This terminal session was opened in another tab or window.' });
      previous.close(CLOSE_TAKEN_OVER, 'taken over');
    }
    this.connection = connection;
    this.detachedSince = null;
    this.clientId = hello.clientId;
    const applied = this.lastInputSeqOf(hello.clientId);
    this.inputSeqs.delete(hello.clientId); // re-insert as the newest, then keep the map small
    this.inputSeqs.set(hello.clientId, applied);
    while (this.inputSeqs.size > 16) this.inputSeqs.delete(this.inputSeqs.keys().next().value!);
    const { chunks, truncated } = this.log.resume(hello.lastOutputSeq);
    connection.sendText({
      t: 'hello',
      v: PROTOCOL_VERSION,
      sessionId: this.id,
      lastInputSeq: this.lastInputSeqOf(hello.clientId),
      truncated,
      cluster: this.lease?.name ?? null,
      expiresAt: this.expiresAt,
    });
    for (const chunk of chunks) connection.sendBinary(encodeOutputFrame(chunk.seq, chunk.data));
    this.resize(hello.cols, hello.rows);
    if (this.exit) connection.sendText({ t: 'exit', code: this.exit.code, signal: this.exit.signal });
    this.applyFlowControl();
  }

  /** A read-only viewer: hello, the retained output after its last seq, then live output. */
  watch(connection: TerminalConnection, hello: Extract<ClientMessage, { t: 'hello' }>): void {
    if (hello.v !== PROTOCOL_VERSION) {
      connection.sendText({ t: 'error', code: 'version', message: `This page speaks terminal protocol ${hello.v}; the server speaks ${PROTOCOL_VERSION}. Reload the page.` });
      connection.close(CLOSE_PROTOCOL, 'protocol version');
      return;
    }
    const { chunks, truncated } = this.log.peek(hello.lastOutputSeq);
    connection.sendText({ t: 'hello', v: PROTOCOL_VERSION, sessionId: this.id, lastInputSeq: 0, truncated, cluster: this.lease?.name ?? null, expiresAt: this.expiresAt });
    for (const chunk of chunks) connection.sendBinary(encodeOutputFrame(chunk.seq, chunk.data));
    if (this.exit) connection.sendText({ t: 'exit', code: this.exit.code, signal: this.exit.signal });
    this.watchers.add(connection);
  }

  unwatch(connection: TerminalConnection): void {
    this.watchers.delete(connection);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** The connection closed (network, tab closed). The session lives on for the grace period. */
  detach(connection: TerminalConnection): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.detachedSince = this.now();
  }

  /** A text frame from a connection; frames from a connection that was taken over are dropped. */
  receive(connection: TerminalConnection, text: string): void {
    if (this.connection !== connection) return;
    const message = parseClientMessage(text);
    if ('error' in message) {
      connection.sendText({ t: 'error', code: 'bad-message', message: `Refused a message: ${message.error}.` });
      return;
    }
    switch (message.t) {
      case 'hello':
        this.attach(connection, message);
        return;
      case 'input':
        // Resent after a reconnect: apply each input exactly once, in order.
        if (message.seq <= this.lastInputSeqOf(this.clientId) || this.exit) return;
        this.inputSeqs.set(this.clientId, message.seq);
        this.pty.write(message.data);
        this.recorder?.input(message.data);
        return;
      case 'resize':
        this.resize(message.cols, message.rows);
        return;
      case 'ack':
        this.log.ack(message.seq);
        this.applyFlowControl();
        return;
    }
  }

  /** Ends the shell (its process group gets SIGHUP, then SIGKILL) and the connection. */
  async end(reason: string): Promise<void> {
    for (const watcher of this.watchers) {
      watcher.sendText({ t: 'error', code: 'session-gone', message: reason });
      watcher.close(4004, 'session ended');
    }
    this.watchers.clear();
    if (this.connection) {
      this.connection.sendText({ t: 'error', code: 'session-gone', message: reason });
      this.connection.close(4004, 'session ended');
      this.connection = null;
    }
    if (!this.exit) {
      try {
        this.pty.kill('SIGHUP');
      } catch {
        // already gone
      }
      const pid = this.pty.pid;
      setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited on SIGHUP, as it should
        }
      }, 2_000).unref();
    }
    // Everything of the shell is gone before the recording closes: what it printed last is in it.
    await this.dispose?.();
    await this.recorder?.close();
    await this.lease?.release();
  }

  private lastInputSeqOf(clientId: string): number {
    return this.inputSeqs.get(clientId) ?? 0;
  }

  private resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    if (!this.exit) this.pty.resize(cols, rows);
    this.recorder?.resize(cols, rows);
  }

  private onOutput(data: Uint8Array): void {
    for (const piece of this.splitter.push(data)) this.emit(piece);
  }

  private emit(piece: Uint8Array): void {
    const chunk = this.log.append(piece);
    this.peakRetainedBytes = Math.max(this.peakRetainedBytes, this.log.retainedBytes);
    this.recorder?.output(piece);
    const frame = encodeOutputFrame(chunk.seq, chunk.data);
    this.connection?.sendBinary(frame);
    for (const watcher of this.watchers) watcher.sendBinary(frame);
    this.applyFlowControl();
  }

  /** Pause the PTY past the high-water mark of unacknowledged output; resume below low water. */
  private applyFlowControl(): void {
    if (this.exit) return;
    if (!this.paused && this.log.overHighWater) {
      this.paused = true;
      this.pty.pause();
    } else if (this.paused && this.log.belowLowWater) {
      this.paused = false;
      this.pty.resume();
    }
  }

  private onExit(code: number, signal: number | null): void {
    const rest = this.splitter.flush();
    if (rest) this.emit(rest);
    this.exit = { code, signal };
    this.connection?.sendText({ t: 'exit', code, signal });
    for (const watcher of this.watchers) watcher.sendText({ t: 'exit', code, signal });
  }
}
