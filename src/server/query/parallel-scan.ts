/**
 * A big audit log scanned by several threads at once, for `irlab query` and `irlab detect`.
 *
 * The file is cut into parts on line boundaries. This thread scans the first part, feeding the
 * consumers as a sequential scan would (it comes first in the file); a worker thread scans each
 * other part (see scan.ts: pre-filter, parse only candidate lines) and answers with the lines
 * whose events pass some query's filter, as text, and which queries they passed. This thread then
 * parses those few lines again and feeds them to the consumers in file order, so a query's output
 * is exactly that of one sequential scan. Line numbers of malformed lines are renumbered by the
 * lines of the parts before.
 *
 * Not every scan is worth it or safe to split, and then `scanFileInParts` answers undefined and
 * the caller scans sequentially: a small file (threads cost more than they save), a query that
 * stops at a head (the sequential scan stops reading there), or a query without a filter (every
 * line would travel between threads). A part whose lines would be too many to hand over (more
 * than `maxSelectedBytes`: an unselective filter) or whose worker failed is scanned by this
 * thread, with the rest of the file.
 */
import { open } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compile } from '../../lib/query/evaluate.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import type { Query } from '../../lib/query/ast.ts';
import { scanFile, type LineConsumer, type ScanOptions, type ScanReport } from './scan.ts';

export interface PartJob {
  file: string;
  start: number;
  end: number;
  /** Query texts, one per consumer. */
  queries: string[];
  prefilter: boolean;
  maxMalformedReported: number;
  /** Past this many bytes of selected lines the part gives up (`overflow`). */
  maxSelectedBytes: number;
  /** Read size (tests use small ones to cut lines across reads). */
  chunkSize?: number;
}

export interface PartResult {
  report: ScanReport;
  /** Lines whose event passed at least one query's filter, in file order. */
  lines: string[];
  /** Per line: bit c set when query c selected it. */
  masks: number[];
  overflow: boolean;
}

export interface QueryConsumer {
  /** The query, parsed (its text travels to the workers). */
  query: Query;
  text: string;
  push(event: unknown): boolean;
}

export interface PartsOptions extends ScanOptions {
  /** Threads to use, this one included; default: `defaultThreads` of this machine now. */
  threads?: number;
  /** Files smaller than this are scanned in one part. Default 32 MB. */
  minBytes?: number;
  /** Bytes of selected lines all parts may hold together. Default 64 MB. */
  maxSelectedBytes?: number;
  chunkSize?: number;
}

/**
 * Threads worth starting: the cores nobody else is using (by the load average over the last
 * minute), at least one, at most 4. On a busy machine a second thread only adds the cost of
 * starting it and of handing lines over (measured: slower than one thread at load 20 on 2 cores).
 */
export function defaultThreads(cores = availableParallelism(), load = loadavg()[0] ?? 0): number {
  return Math.max(1, Math.min(4, cores, Math.floor(cores - load + 1)));
}

/** Scans one part of a file: the work of one thread. */
export async function scanPart(job: PartJob, signal?: AbortSignal): Promise<PartResult> {
  const lines: string[] = [];
  const masks: number[] = [];
  let bytes = 0;
  let overflow = false;
  let pending = -1;
  const filters = job.queries.map((text) => {
    const query = parseQuery(text);
    return query.filter ? compile(query.filter) : () => true;
  });
  // The consumers of one line are called one after another with the same line; a consumer whose
  // bit is already set is seeing the next line (two equal lines select the same queries).
  const consumers: LineConsumer[] = job.queries.map((text, c) => ({
    clauses: requiredLiterals(parseQuery(text)),
    push: (event, line) => {
      if (overflow || !filters[c]!(event)) return !overflow;
      if (pending < 0 || lines[pending] !== line || masks[pending]! & (1 << c)) {
        bytes += line.length;
        if (bytes > job.maxSelectedBytes) {
          overflow = true;
          return false;
        }
        pending = lines.push(line) - 1;
        masks.push(0);
      }
      masks[pending]! |= 1 << c;
      return true;
    },
  }));
  const report = await scanFile(job.file, consumers, {
    start: job.start,
    end: job.end,
    prefilter: job.prefilter,
    maxMalformedReported: job.maxMalformedReported,
    ...(job.chunkSize ? { chunkSize: job.chunkSize } : {}),
    ...(signal ? { signal } : {}),
  });
  return { report, lines, masks, overflow };
}

/** Where the parts start: `parts` offsets from 0, each just after a newline (or the end). */
export async function partStarts(file: string, size: number, parts: number): Promise<number[]> {
  const handle = await open(file);
  try {
    const starts = [0];
    const probe = Buffer.allocUnsafe(64 * 1024);
    for (let i = 1; i < parts; i++) {
      let at = Math.max(Math.floor((size * i) / parts), starts[starts.length - 1]!);
      for (;;) {
        const { bytesRead } = await handle.read(probe, 0, probe.length, at);
        if (bytesRead === 0) {
          at = size;
          break;
        }
        const newline = probe.subarray(0, bytesRead).indexOf(0x0a);
        if (newline >= 0) {
          at += newline + 1;
          break;
        }
        at += bytesRead;
      }
      starts.push(at);
    }
    return starts;
  } finally {
    await handle.close();
  }
}

function runWorker(job: PartJob, signal: AbortSignal | undefined): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./parallel-scan-worker.mjs', import.meta.url), { workerData: job });
    const abort = () => void worker.terminate();
    signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (result: PartResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', abort);
      reject(new Error(`a query worker exited with code ${code} before it answered`));
    });
  });
}

function headStops(query: Query) {
  for (const stage of query.stages) {
    if (stage.type === 'sort' || stage.type === 'count' || stage.type === 'dc') return false;
    if (stage.type === 'head') return true;
  }
  return false;
}

/**
 * The scan in parts, or undefined when it should be one sequential scan (see the top). Once it
 * has started it finishes: a part whose worker selected too much is scanned here with the rest.
 */
export async function scanFileInParts(file: string, size: number, consumers: QueryConsumer[], options: PartsOptions = {}): Promise<ScanReport | undefined> {
  const threads = Math.min(options.threads ?? defaultThreads(), Math.floor(size / (options.minBytes ?? 32 << 20)));
  if (threads < 2 || consumers.length === 0 || consumers.length > 30) return undefined;
  if (consumers.some((c) => !c.query.filter || headStops(c.query))) return undefined;
  const starts = await partStarts(file, size, threads);
  const maxMalformedReported = options.maxMalformedReported ?? 20;
  const jobs: PartJob[] = starts.map((start, i) => ({
    file,
    start,
    end: starts[i + 1] ?? size,
    queries: consumers.map((c) => c.text),
    prefilter: options.prefilter !== false,
    maxMalformedReported,
    maxSelectedBytes: Math.floor((options.maxSelectedBytes ?? 64 << 20) / threads),
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
  }));
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const report: ScanReport = { lines: 0, bytes: 0, parsed: 0, malformed: 0, malformedLines: [], stoppedEarly: false, physicalLines: 0 };
  const add = (part: ScanReport) => {
    for (const m of part.malformedLines) {
      if (report.malformedLines.length < maxMalformedReported) report.malformedLines.push({ line: m.line + report.physicalLines, reason: m.reason });
    }
    report.lines += part.lines;
    report.bytes += part.bytes;
    report.parsed += part.parsed;
    report.malformed += part.malformed;
    report.physicalLines += part.physicalLines;
  };
  // The consumers themselves, as a sequential scan would feed them (for this thread's parts).
  const direct: LineConsumer[] = consumers.map((c) => ({ clauses: requiredLiterals(c.query), push: (event) => c.push(event) }));
  const scanHere = (start: number, end: number) =>
    scanFile(file, direct, { start, end, prefilter: options.prefilter !== false, maxMalformedReported, ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}), signal });
  // Workers for every part but the first; a failed worker is a part this thread scans itself.
  const workers = jobs.map((job, i) => (i === 0 ? undefined : runWorker(job, signal).catch(() => undefined)));
  try {
    // The first part goes straight to the consumers: it comes first in the file.
    add(await scanHere(jobs[0]!.start, jobs[0]!.end));
    for (let i = 1; i < jobs.length; i++) {
      const result = await workers[i];
      signal.throwIfAborted();
      if (!result || result.overflow) {
        // Too many selected lines to hand over (or no worker): the rest in this thread, in order.
        add(await scanHere(jobs[i]!.start, size));
        break;
      }
      for (let l = 0; l < result.lines.length; l++) {
        const event: unknown = JSON.parse(result.lines[l]!);
        for (let c = 0; c < consumers.length; c++) if (result.masks[l]! & (1 << c)) consumers[c]!.push(event);
      }
      add(result.report);
    }
  } finally {
    stop.abort();
  }
  options.onProgress?.(report.bytes, size);
  return report;
}
