/**
 * Cuts the PTY's byte stream into chunks that start and end on a safe boundary: never inside a
 * UTF-8 character, never inside an escape sequence (CSI, OSC, DCS, ...). The replay buffer drops
 * whole chunks from its front, so every chunk must be a place a fresh terminal can start reading.
 *
 * The PTY hands us reads cut anywhere; the tail of a read that is not yet safe is held back until
 * the next read completes it. A "sequence" that never ends (`cat` of a binary file that contains
 * ESC ]) is released once it exceeds `maxHold` bytes, since a real terminal gives up on it too.
 */

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;

const GROUND = 0;
/** After ESC. */
const ESCAPE = 1;
/** After ESC and one or more intermediate bytes (0x20-0x2F), e.g. ESC ( B. */
const ESCAPE_INTERMEDIATE = 2;
/** Inside ESC [ ... final. */
const CSI = 3;
/** Inside OSC, DCS, SOS, PM or APC: ends with BEL (OSC) or ESC \. */
const STRING = 4;
/** ESC seen inside a string: `\` ends it, anything else starts a new sequence. */
const STRING_ESCAPE = 5;

export interface SplitterLimits {
  /** Largest chunk emitted (bytes); bigger reads become several chunks. */
  maxChunk: number;
  /** Longest unfinished tail held back before it is released anyway. */
  maxHold: number;
}

export const DEFAULT_SPLITTER_LIMITS: SplitterLimits = { maxChunk: 32 * 1024, maxHold: 64 * 1024 };

/**
 * Returns the largest n ≤ limit such that bytes[0..n) ends on a safe boundary, given that bytes
 * starts on one. 0 when no safe boundary exists within the limit.
 */
export function lastSafeBoundary(bytes: Uint8Array, limit = bytes.length): number {
  let state = GROUND;
  let utf8Pending = 0;
  let safe = 0;
  const end = Math.min(limit, bytes.length);
  for (let i = 0; i < end; i++) {
    const b = bytes[i]!;
    switch (state) {
      case GROUND:
        if (b === ESC) {
          state = ESCAPE;
          utf8Pending = 0;
        } else if (b < 0x80) utf8Pending = 0;
        else if (b < 0xc0) utf8Pending = utf8Pending > 0 ? utf8Pending - 1 : 0;
        else if (b < 0xe0) utf8Pending = 1;
        else if (b < 0xf0) utf8Pending = 2;
        else if (b < 0xf8) utf8Pending = 3;
        else utf8Pending = 0;
        break;
      case ESCAPE:
        if (b === 0x5b) state = CSI; // [
        else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) state = STRING; // ] P X ^ _
        else if (b >= 0x20 && b <= 0x2f) state = ESCAPE_INTERMEDIATE;
        else if (b === ESC) state = ESCAPE;
        else state = GROUND; // a two-byte sequence (ESC 7, ESC =...) or CAN/SUB abort
        break;
      case ESCAPE_INTERMEDIATE:
        if (b >= 0x30 && b <= 0x7e) state = GROUND;
        else if (b === ESC) state = ESCAPE;
        else if (b === CAN || b === SUB) state = GROUND;
        break;
      case CSI:
        if (b >= 0x40 && b <= 0x7e) state = GROUND;
        else if (b === ESC) state = ESCAPE;
        else if (b === CAN || b === SUB) state = GROUND;
        break;
      case STRING:
        if (b === BEL || b === CAN || b === SUB) state = GROUND;
        else if (b === ESC) state = STRING_ESCAPE;
        break;
      case STRING_ESCAPE:
        if (b === 0x5c) state = GROUND; // ESC \ (ST)
        else if (b === 0x5b) state = CSI;
        else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) state = STRING;
        else if (b >= 0x20 && b <= 0x2f) state = ESCAPE_INTERMEDIATE;
        else if (b === ESC) state = ESCAPE;
        else state = GROUND;
        break;
    }
    if (state === GROUND && utf8Pending === 0) safe = i + 1;
  }
  return safe;
}

/** Stateful splitter for one PTY: push reads in, get safe chunks out. */
export class OutputSplitter {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly limits: SplitterLimits;

  constructor(limits: SplitterLimits = DEFAULT_SPLITTER_LIMITS) {
    this.limits = limits;
  }

  /** Bytes held back, waiting for the rest of a character or sequence. */
  get heldBytes(): number {
    return this.pending.length;
  }

  push(read: Uint8Array): Uint8Array[] {
    let bytes = read;
    if (this.pending.length) {
      bytes = new Uint8Array(this.pending.length + read.length);
      bytes.set(this.pending);
      bytes.set(read, this.pending.length);
    }
    const chunks: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      const rest = bytes.subarray(offset);
      // A sequence longer than maxChunk (a long OSC title or hyperlink) makes one bigger chunk.
      let cut = lastSafeBoundary(rest, this.limits.maxChunk) || lastSafeBoundary(rest, this.limits.maxHold);
      if (cut === 0) {
        // No safe point within one chunk: either the tail is still arriving (hold it), or it is
        // a runaway sequence (release it, up to maxChunk at a time).
        if (rest.length < this.limits.maxHold) break;
        cut = Math.min(rest.length, this.limits.maxChunk);
      }
      chunks.push(rest.slice(0, cut));
      offset += cut;
    }
    this.pending = bytes.slice(offset);
    return chunks;
  }

  /** Everything still held (the PTY closed, so nothing will complete it). */
  flush(): Uint8Array | null {
    if (!this.pending.length) return null;
    const rest = this.pending;
    this.pending = new Uint8Array(0);
    return rest;
  }
}
