/**
 * A session's recent output, numbered chunk by chunk, kept for replay after a reconnect, plus
 * the flow-control arithmetic: how much output the browser has not yet acknowledged writing.
 *
 * Memory is bounded: chunks the browser has acknowledged are dropped from the front once the log
 * holds more than `replayBytes`; chunks it has not acknowledged are never dropped, and the PTY is
 * paused once they exceed `highWater`, so they cannot grow past highWater + one chunk either.
 */

export interface FlowLimits {
  /** Pause the PTY when unacknowledged output exceeds this many bytes. */
  highWater: number;
  /** Resume it when unacknowledged output falls below this. */
  lowWater: number;
  /** Keep at least this much already-acknowledged output for a fresh tab or a reconnect. */
  replayBytes: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = { highWater: 256 * 1024, lowWater: 64 * 1024, replayBytes: 512 * 1024 };

export interface OutputChunk {
  seq: number;
  data: Uint8Array;
}

export class OutputLog {
  private readonly chunks: OutputChunk[] = [];
  private head = 0;
  private retained = 0;
  private nextSeq = 1;
  private acked = 0;
  private unacked = 0;
  private readonly limits: FlowLimits;

  constructor(limits: FlowLimits = DEFAULT_FLOW_LIMITS) {
    if (limits.lowWater >= limits.highWater) throw new Error('lowWater must be below highWater');
    this.limits = limits;
  }

  /** Sequence number of the newest chunk (0 before any output). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }
  get ackedSeq(): number {
    return this.acked;
  }
  get unackedBytes(): number {
    return this.unacked;
  }
  /** Bytes held in memory right now. */
  get retainedBytes(): number {
    return this.retained;
  }
  /** The PTY must be paused: the browser is too far behind. */
  get overHighWater(): boolean {
    return this.unacked > this.limits.highWater;
  }
  /** The PTY may run again. */
  get belowLowWater(): boolean {
    return this.unacked < this.limits.lowWater;
  }

  append(data: Uint8Array): OutputChunk {
    const chunk = { seq: this.nextSeq++, data };
    this.chunks.push(chunk);
    this.retained += data.byteLength;
    this.unacked += data.byteLength;
    this.evict();
    return chunk;
  }

  /** The browser wrote every chunk up to `seq`. Acks for unknown or old chunks are ignored. */
  ack(seq: number): void {
    if (seq <= this.acked) return;
    const upTo = Math.min(seq, this.lastSeq);
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (chunk.seq > upTo) break;
      if (chunk.seq > this.acked) this.unacked -= chunk.data.byteLength;
    }
    this.acked = upTo;
    this.evict();
  }

  /**
   * A (re)connecting browser says it has written everything up to `lastSeq`. Returns the chunks it
   * still needs, and whether some it needed were already dropped (a gap in its screen).
   */
  resume(lastSeq: number): { chunks: OutputChunk[]; truncated: boolean } {
    const claimed = Math.min(lastSeq, this.lastSeq);
    // Whatever it has written counts as acknowledged; everything after it is owed again.
    this.acked = claimed;
    this.unacked = 0;
    const chunks: OutputChunk[] = [];
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (chunk.seq > claimed) {
        chunks.push(chunk);
        this.unacked += chunk.data.byteLength;
      }
    }
    const oldest = this.head < this.chunks.length ? this.chunks[this.head]!.seq : this.nextSeq;
    const truncated = claimed + 1 < oldest;
    return { chunks, truncated };
  }

  /** What a read-only watcher needs after `lastSeq`, without touching the owner's flow control. */
  peek(lastSeq: number): { chunks: OutputChunk[]; truncated: boolean } {
    const claimed = Math.min(Math.max(0, lastSeq), this.lastSeq);
    const chunks: OutputChunk[] = [];
    for (let i = this.head; i < this.chunks.length; i++) if (this.chunks[i]!.seq > claimed) chunks.push(this.chunks[i]!);
    const oldest = this.head < this.chunks.length ? this.chunks[this.head]!.seq : this.nextSeq;
    return { chunks, truncated: claimed + 1 < oldest };
  }

  private evict(): void {
    while (this.head < this.chunks.length && this.retained > this.limits.replayBytes) {
      const oldest = this.chunks[this.head]!;
      if (oldest.seq > this.acked) break; // never drop what the browser has not written
      this.retained -= oldest.data.byteLength;
      this.head++;
    }
    // Compact now and then rather than shifting the array on every eviction.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }
}
