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
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hidesSafeCharacter, type Clause } from '../../lib/query/prefilter.ts';

export interface LineConsumer {
  /** The pre-filter: a line is parsed for this consumer only if it holds one literal of every clause. */
  clauses: readonly Clause[];
  /** Receives each parsed event that passed the pre-filter; returns false when it needs no more. */
  push(event: unknown): boolean;
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
}

export interface ScanOptions {
  /** Skip the pre-filter and parse every line (to compare, and for tests). Default true. */
  prefilter?: boolean;
  maxMalformedReported?: number;
  /** Called after each chunk with bytes read so far and the total (when known). */
  onProgress?: (bytes: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

const NEWLINE = 0x0a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const ESCAPE_SLASH = Buffer.from('\\/');
const ESCAPE_U00 = Buffer.from('\\u00');

function isSpace(byte: number | undefined) {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d;
}

class Scanner {
  readonly report: ScanReport = { lines: 0, bytes: 0, parsed: 0, malformed: 0, malformedLines: [], stoppedEarly: false };
  /** Physical line number in the input, blank lines included (what an editor shows). */
  private lineNo = 0;
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
    this.plan = consumers.map((c) =>
      c.clauses.map((clause) =>
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
      const lineNo = ++this.lineNo;
      let s = start;
      let e = stop;
      while (s < e && isSpace(region[s])) s++;
      while (e > s && isSpace(region[e - 1])) e--;
      start = stop + 1;
      if (s === e) continue; // blank lines are not log lines
      this.report.lines++;
      let any = false;
      if (this.usePrefilter) {
        const holds = (literal: number) => {
          if (nextHit[literal]! < s && nextHit[literal] !== Infinity) {
            const found = region.indexOf(this.literals[literal]!, s);
            nextHit[literal] = found < 0 ? Infinity : found;
          }
          return nextHit[literal]! < e;
        };
        let hidden: boolean | undefined;
        const escapes = () => {
          if (hidden === undefined) {
            if (nextSlash < s && nextSlash !== Infinity) nextSlash = ((f) => (f < 0 ? Infinity : f))(region.indexOf(ESCAPE_SLASH, s));
            if (nextU00 < s && nextU00 !== Infinity) nextU00 = ((f) => (f < 0 ? Infinity : f))(region.indexOf(ESCAPE_U00, s));
            hidden = (nextSlash < e || nextU00 < e) && hidesSafeCharacter(region.toString('utf8', s, e));
          }
          return hidden;
        };
        for (let c = 0; c < this.consumers.length; c++) {
          wanted[c] = this.active[c]! && this.plan[c]!.every((clause) => clause.some(holds) || escapes());
          any ||= wanted[c]!;
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
      try {
        event = JSON.parse(region.toString('utf8', s, e));
      } catch (error) {
        this.malformed(lineNo, `invalid JSON: ${(error as Error).message}`);
        continue;
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        this.malformed(lineNo, 'not a JSON object');
        continue;
      }
      for (let c = 0; c < this.consumers.length; c++) {
        if (wanted[c] && !this.consumers[c]!.push(event)) {
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

export async function scanFile(file: string, consumers: LineConsumer[], options: ScanOptions = {}): Promise<ScanReport> {
  const { size } = await stat(file);
  const stream = createReadStream(file, { highWaterMark: 4 << 20 });
  try {
    return await scanChunks(stream, consumers, options, size);
  } finally {
    stream.destroy();
  }
}
