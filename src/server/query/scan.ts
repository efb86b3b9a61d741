/**
 * The fast path for audit logs on disk: stream the file in large chunks, find line boundaries in
 * the raw bytes, and JSON.parse a line only when some consumer's literal pre-filter (see
 * src/lib/query/prefilter.ts) says its query could match it. Several consumers (e.g. every
 * detection rule) share one pass and one parse per line.
 *
 * A malformed line never stops a scan: it is counted, and the first few are reported with their
 * line numbers. Lines the pre-filter rules out are only checked for shape (a JSON object starts
 * with "{" and ends with "}"), which catches truncated and interleaved writes without parsing.
 */
import { open } from 'node:fs/promises';
import type { Clause } from '../../lib/query/prefilter.ts';

export interface LineConsumer {
  /** The pre-filter: a line is parsed for this consumer only if it holds one literal of every clause. */
  clauses: readonly Clause[];
  /**
   * Receives each parsed event that passed the pre-filter, with the line it was parsed from;
   * returns false when it needs no more.
   */
  push(event: unknown, line: string): boolean;
}

export interface MalformedLine {
  line: number;
  reason: string;
}

export interface ScanReport {
  /** Non-blank lines seen (up to where the scan stopped). */
  lines: number;
  bytes: number;
  /** Lines handed to JSON.parse. */
  parsed: number;
  malformed: number;
  /** The first malformed lines (up to `maxMalformedReported`), with why. */
  malformedLines: MalformedLine[];
  /** True when every consumer stopped before the end (a head was reached). */
  stoppedEarly: boolean;
  /** Lines seen, blank ones included (to number the lines of a part of a file that follows). */
  physicalLines: number;
}

export interface ScanOptions {
  /** Skip the pre-filter and parse every line (to compare, and for tests). Default true. */
  prefilter?: boolean;
  maxMalformedReported?: number;
  /** Called after each chunk with bytes read so far and the total (when known). */
  onProgress?: (bytes: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /** Scan only bytes [start, end) of a file (both on line boundaries). Default: all of it. */
  start?: number;
  end?: number;
}

const NEWLINE = 0x0a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const ESCAPE_SLASH = Buffer.from('\\/');
const ESCAPE_U00 = Buffer.from('\\u00');

/** Characters the pre-filter's literals are made of (see SAFE in src/lib/query/prefilter.ts). */
const SAFE_BYTES = (() => {
  const table = new Uint8Array(128);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 :._@=,+%~#$!;?()[]{}'^`|/-") table[c.charCodeAt(0)] = 1;
  return table;
})();

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/**
 * Whether a `\u00XX` escape from `first` on (before `end`) writes a safe character: then the
 * line may hide a literal and must be parsed. Conservative on purpose (an escaped backslash
 * followed by "u00.." also counts): parsing too much is slow, skipping too much is wrong.
 */
function hidesInBytes(buf: Buffer, first: number, end: number): boolean {
  for (let at = first; at >= 0 && at < end; at = buf.indexOf(ESCAPE_U00, at + 4)) {
    const hi = hexValue(buf[at + 4]);
    const lo = hexValue(buf[at + 5]);
    if (hi >= 0 && lo >= 0 && SAFE_BYTES[hi * 16 + lo] === 1 && hi * 16 + lo < 128) return true;
  }
  return false;
}

function isSpace(byte: number | undefined) {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d;
}

class Scanner {
  readonly report: ScanReport = { lines: 0, bytes: 0, parsed: 0, malformed: 0, malformedLines: [], stoppedEarly: false, physicalLines: 0 };
  private readonly consumers: LineConsumer[];
  private readonly active: boolean[];
  private readonly literals: Buffer[];
  /** Per consumer, per clause: indexes into `literals`. */
  private readonly plan: number[][][];
  private readonly usePrefilter: boolean;
  private readonly maxReported: number;
  private live: number;

  constructor(consumers: LineConsumer[], options: ScanOptions) {
    this.consumers = consumers;
    this.active = consumers.map(() => true);
    this.live = consumers.length;
    this.usePrefilter = options.prefilter !== false;
    this.maxReported = options.maxMalformedReported ?? 20;
    const index = new Map<string, number>();
    this.literals = [];
    const selectiveFirst = (clauses: readonly Clause[]) => [...clauses].sort((a, b) => Math.min(...b.map((l) => l.length)) / b.length - Math.min(...a.map((l) => l.length)) / a.length);
    this.plan = consumers.map((c) =>
      selectiveFirst(c.clauses).map((clause) =>
        clause.map((literal) => {
          let i = index.get(literal);
          if (i === undefined) {
            i = this.literals.length;
            index.set(literal, i);
            this.literals.push(Buffer.from(literal, 'utf8'));
          }
          return i;
        }),
      ),
    );
  }

  get done() {
    return this.live === 0;
  }

  private malformed(line: number, reason: string) {
    this.report.malformed++;
    if (this.report.malformedLines.length < this.maxReported) this.report.malformedLines.push({ line, reason });
  }

  /** Processes every complete line in `buf[0, end)`; `end` is just after a newline or the end of input. */
  processLines(buf: Buffer, end: number) {
    const region = buf.subarray(0, end);
    const nextHit = new Float64Array(this.literals.length).fill(-1);
    let nextSlash = -1;
    let nextU00 = -1;
    const wanted: boolean[] = this.consumers.map(() => false);
    let start = 0;
    while (start < end && !this.done) {
      let stop = region.indexOf(NEWLINE, start);
      if (stop < 0) stop = end;
      // Physical line number in the input, blank lines included (what an editor shows).
      const lineNo = ++this.report.physicalLines;
      let s = start;
      let e = stop;
      while (s < e && isSpace(region[s])) s++;
      while (e > s && isSpace(region[e - 1])) e--;
      start = stop + 1;
      if (s === e) continue; // blank lines are not log lines
      this.report.lines++;
      let any = false;
      if (this.usePrefilter) {
        // Flat loops, no closures: this runs once per line of a file of millions.
        let hidden = -1;
        for (let c = 0; c < this.consumers.length; c++) {
          let ok = this.active[c]!;
          const clauses = this.plan[c]!;
          for (let k = 0; ok && k < clauses.length; k++) {
            const clause = clauses[k]!;
            let found = false;
            for (let a = 0; a < clause.length; a++) {
              const literal = clause[a]!;
              if (k > 0) {
                // Later clauses run only on lines that passed the first: search just this line,
                // rather than the chunk up to the literal's next (perhaps distant) occurrence.
                if (nextHit[literal]! >= s && nextHit[literal]! < e) found = true;
                else if (region.subarray(s, e).indexOf(this.literals[literal]!) >= 0) found = true;
                if (found) break;
                continue;
              }
              if (nextHit[literal]! < s) {
                const at = region.indexOf(this.literals[literal]!, s);
                nextHit[literal] = at < 0 ? Infinity : at;
              }
              if (nextHit[literal]! < e) {
                found = true;
                break;
              }
            }
            if (found) continue;
            if (hidden < 0) {
              if (nextSlash < s) nextSlash = ((at) => (at < 0 ? Infinity : at))(region.indexOf(ESCAPE_SLASH, s));
              if (nextU00 < s) nextU00 = ((at) => (at < 0 ? Infinity : at))(region.indexOf(ESCAPE_U00, s));
              hidden = nextSlash < e || (nextU00 < e && hidesInBytes(region, nextU00, e)) ? 1 : 0;
            }
            ok = hidden === 1;
          }
          wanted[c] = ok;
          any ||= ok;
        }
      } else {
        for (let c = 0; c < this.consumers.length; c++) any ||= wanted[c] = this.active[c]!;
      }
      if (!any) {
        if (region[s] !== OPEN || region[e - 1] !== CLOSE) this.malformed(lineNo, 'not a JSON object (truncated or garbled line)');
        continue;
      }
      let event: unknown;
      this.report.parsed++;
      const text = region.toString('utf8', s, e);
      try {
        event = JSON.parse(text);
      } catch (error) {
        this.malformed(lineNo, `invalid JSON: ${(error as Error).message}`);
        continue;
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        this.malformed(lineNo, 'not a JSON object');
        continue;
      }
      for (let c = 0; c < this.consumers.length; c++) {
        if (wanted[c] && !this.consumers[c]!.push(event, text)) {
          this.active[c] = false;
          this.live--;
        }
      }
    }
  }
}

/** Scans a stream of raw bytes (a file, a pipe, a log fetched from a cluster). */
export async function scanChunks(chunks: AsyncIterable<Uint8Array>, consumers: LineConsumer[], options: ScanOptions = {}, total?: number): Promise<ScanReport> {
  const scanner = new Scanner(consumers, options);
  let leftover: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    options.signal?.throwIfAborted();
    scanner.report.bytes += chunk.length;
    const buf = leftover.length ? Buffer.concat([leftover, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const last = buf.lastIndexOf(NEWLINE);
    if (last < 0) {
      leftover = buf;
      continue;
    }
    scanner.processLines(buf, last + 1);
    leftover = buf.subarray(last + 1);
    options.onProgress?.(scanner.report.bytes, total);
    if (scanner.done) {
      scanner.report.stoppedEarly = true;
      return scanner.report;
    }
  }
  if (leftover.length) scanner.processLines(leftover, leftover.length);
  if (scanner.done && consumers.length) scanner.report.stoppedEarly = true;
  return scanner.report;
}

/** Scans a file, reading into one reused buffer (no per-chunk allocation or copying). */
export async function scanFile(file: string, consumers: LineConsumer[], options: ScanOptions & { chunkSize?: number } = {}): Promise<ScanReport> {
  const handle = await open(file);
  try {
    const { size } = await handle.stat();
    const end = Math.min(options.end ?? size, size);
    let position = options.start ?? 0;
    const scanner = new Scanner(consumers, options);
    let buf = Buffer.allocUnsafe(options.chunkSize ?? 4 << 20);
    let filled = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      if (filled === buf.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, filled, Math.min(buf.length - filled, end - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      filled += bytesRead;
      scanner.report.bytes += bytesRead;
      const last = buf.lastIndexOf(NEWLINE, filled - 1);
      if (last < 0) continue;
      scanner.processLines(buf, last + 1);
      buf.copy(buf, 0, last + 1, filled);
      filled -= last + 1;
      options.onProgress?.(scanner.report.bytes, size);
      if (scanner.done) {
        scanner.report.stoppedEarly = true;
        return scanner.report;
      }
    }
    if (filled) scanner.processLines(buf, filled);
    if (scanner.done && consumers.length) scanner.report.stoppedEarly = true;
    return scanner.report;
  } finally {
    await handle.close();
  }
}
