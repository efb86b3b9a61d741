/**
 * Records a terminal session as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/):
 * one JSON header line, then one JSON array per event: [seconds, "o", text] for output,
 * [seconds, "i", text] for what the learner typed, [seconds, "r", "COLSxROWS"] for a resize.
 * Drill reports read the "i" events; replay plays the "o" events.
 *
 * Output chunks arrive on UTF-8 boundaries (output-splitter), so each decodes on its own.
 * A recording stops growing at `maxBytes` (a `cat` of a huge file must not fill the disk) and
 * says so in a final marker event.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds when the session started. */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
}

export type AsciicastEvent = [time: number, kind: 'o' | 'i' | 'r' | 'm', data: string];

export interface RecorderOptions {
  path: string;
  header: AsciicastHeader;
  /** Milliseconds clock; the first event's time is measured from construction. */
  now: () => number;
  maxBytes: number;
}

export class AsciicastRecorder {
  private readonly out: WriteStream;
  private readonly started: number;
  private readonly now: () => number;
  private readonly maxBytes: number;
  private readonly decoder = new TextDecoder('utf-8');
  private written = 0;
  private full = false;
  readonly path: string;

  constructor(options: RecorderOptions) {
    this.path = options.path;
    this.now = options.now;
    this.started = options.now();
    this.maxBytes = options.maxBytes;
    this.out = createWriteStream(options.path, { flags: 'w', mode: 0o600 });
    this.write(JSON.stringify(options.header));
  }

  output(data: Uint8Array): void {
    this.event('o', this.decoder.decode(data));
  }
  input(data: string): void {
    this.event('i', data);
  }
  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  get bytesWritten(): number {
    return this.written;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }

  private event(kind: AsciicastEvent[1], data: string): void {
    if (this.full || data === '') return;
    const line = JSON.stringify([this.elapsed(), kind, data] satisfies AsciicastEvent);
    if (this.written + line.length > this.maxBytes) {
      this.full = true;
      this.write(JSON.stringify([this.elapsed(), 'm', `recording stopped at its ${this.maxBytes}-byte limit`]));
      return;
    }
    this.write(line);
  }

  private elapsed(): number {
    return Math.round(this.now() - this.started) / 1000;
  }

  private write(line: string): void {
    if (this.out.writableEnded) return; // output the PTY still had buffered when the session ended
    this.written += line.length + 1;
    this.out.write(line + '\n');
  }
}

/** Parses a recording back (for reports, replay and tests). */
export function parseAsciicast(text: string): { header: AsciicastHeader; events: AsciicastEvent[] } {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const [first, ...rest] = lines;
  if (!first) throw new Error('empty asciicast');
  const header = JSON.parse(first) as AsciicastHeader;
  if (header.version !== 2) throw new Error(`asciicast version ${String(header.version)} is not 2`);
  return { header, events: rest.map((line) => JSON.parse(line) as AsciicastEvent) };
}
