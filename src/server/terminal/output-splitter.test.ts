import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputSplitter, lastSafeBoundary } from './output-splitter.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join('');

/** Pieces a terminal program really writes: text (with multi-byte characters) and sequences. */
const piece = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('\x1b[0m', '\x1b[1;32m', '\x1b[38;2;10;20;30m', '\x1b[?2004h', '\x1b]0;title ✓\x07', '\x1b]8;;https://x.test\x1b\\', '\x1b(B', '\x1b7', '\x1bP1$r0m\x1b\\', 'é', '漢', '🙂', '\r\n'),
);

describe('output splitter', () => {
  it('finds the last boundary outside characters and sequences', () => {
    expect(lastSafeBoundary(bytes('ab\x1b[3'))).toBe(2);
    expect(lastSafeBoundary(bytes('ab\x1b[31m'))).toBe(7);
    expect(lastSafeBoundary(bytes('x\x1b]0;ti'))).toBe(1);
    expect(lastSafeBoundary(bytes('x\x1b]0;ti\x1b'))).toBe(1);
    expect(lastSafeBoundary(bytes('x\x1b]0;ti\x1b\\'))).toBe(9);
    expect(lastSafeBoundary(bytes('é').subarray(0, 1))).toBe(0);
    expect(lastSafeBoundary(bytes('a🙂').subarray(0, 4))).toBe(1);
  });

  it('never cuts a character or an escape sequence, wherever the PTY splits its reads', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 10 }), (pieces, cuts) => {
        const all = bytes(pieces.join(''));
        const splitter = new OutputSplitter({ maxChunk: 16, maxHold: 1024 });
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const point of [...points, all.length]) {
          chunks.push(...splitter.push(all.subarray(from, point)));
          from = point;
        }
        expect(splitter.heldBytes).toBe(0); // the stream ends on a boundary, so nothing is left
        expect(text(chunks)).toBe(pieces.join(''));
        for (const chunk of chunks) {
          // Each chunk is whole on its own: decodes without replacement and ends on a boundary.
          expect(new TextDecoder('utf-8', { fatal: true }).decode(chunk)).toBeTypeOf('string');
          expect(lastSafeBoundary(chunk)).toBe(chunk.length);
        }
      }),
    );
  });

  it('holds an unfinished tail until the next read, and releases a runaway sequence at maxHold', () => {
    const splitter = new OutputSplitter({ maxChunk: 8, maxHold: 32 });
    expect(text(splitter.push(bytes('ok\x1b[3')))).toBe('ok');
    expect(text(splitter.push(bytes('1mred')))).toBe('\x1b[31mred');
    const runaway = splitter.push(bytes('\x1b]' + 'x'.repeat(40)));
    expect(text(runaway).length).toBeGreaterThan(0);
    expect(splitter.heldBytes).toBeLessThan(32);
  });
});
