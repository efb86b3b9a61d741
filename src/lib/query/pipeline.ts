/**
 * Runs a parsed query over a stream of records: `push` each audit event, then `finish`. Stages up
 * to the first sort or aggregation stream (so `| head 20` stops a scan early and memory stays flat);
 * aggregations keep one entry per group; a sort buffers what reaches it.
 */
import type { FieldRef, Query, Stage } from './ast.ts';
import { compile, resolveColumn, resolveNested, type Predicate, type Resolver } from './evaluate.ts';
import { formatMicros, parseTimestamp } from './time.ts';

/** One aggregation row: column name (as written in the query) → value. */
export type Row = Record<string, unknown>;

export type QueryOutput =
  | { kind: 'events'; events: unknown[]; /** matching events, including those not kept */ total: number }
  | { kind: 'rows'; columns: string[]; rows: Row[] };

export interface RunOptions {
  /** Called with every event that comes out of the query, as it is found (CLI streaming). */
  onEvent?: (event: unknown) => void;
  /** Keep at most this many events in the output (the total still counts all). Default: all. */
  keepEvents?: number;
}

export interface QueryRun {
  /** Feed one event; false means the query needs no more (a head was reached). */
  push(event: unknown): boolean;
  finish(): QueryOutput;
}

const WINDOW_KEY = 'window';

interface Aggregator {
  columns: string[];
  add(record: unknown): void;
  rows(): Row[];
}

function aggregator(stage: Extract<Stage, { type: 'count' | 'dc' }>, resolve: Resolver, windowed: boolean): Aggregator {
  const by = stage.by;
  const columns = [...(windowed ? [WINDOW_KEY] : []), ...by.map((f) => f.text), stage.type];
  const groups = new Map<string, { key: unknown[]; count: number; distinct: Set<string> }>();
  const valuesOf = (record: unknown, field: FieldRef): unknown[] => {
    const v = resolve(record, field);
    if (Array.isArray(v)) return v.length ? v : [null];
    return [v ?? null];
  };
  return {
    columns,
    add(record) {
      // A multi-valued group field (user.groups) counts the event once per value.
      let keys: unknown[][] = [windowed ? [(record as Record<string, unknown>)[WINDOW_KEY] ?? null] : []];
      for (const field of by) {
        const values = valuesOf(record, field);
        keys = keys.flatMap((k) => values.map((v) => [...k, v]));
      }
      let distinctValues: string[] = [];
      if (stage.type === 'dc') {
        const v = resolve(record, stage.field);
        distinctValues = (Array.isArray(v) ? v : [v]).filter((x) => x !== null && x !== undefined).map((x) => JSON.stringify(x));
      }
      for (const key of keys) {
        const id = JSON.stringify(key);
        let group = groups.get(id);
        if (!group) groups.set(id, (group = { key, count: 0, distinct: new Set() }));
        group.count++;
        for (const d of distinctValues) group.distinct.add(d);
      }
    },
    rows() {
      return [...groups.values()].map(({ key, count, distinct }) => {
        const row: Row = {};
        columns.slice(0, -1).forEach((column, i) => (row[column] = key[i]));
        row[stage.type] = stage.type === 'count' ? count : distinct.size;
        return row;
      });
    },
  };
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Applies stages to an in-memory list (everything after the first sort or aggregation). */
function applyStages(stages: readonly Stage[], input: unknown[], rowsMode: boolean, columns: string[]): QueryOutput {
  let items = input;
  let resolve: Resolver = rowsMode ? resolveColumn : resolveNested;
  let isRows = rowsMode;
  let cols = columns;
  let windowed = false;
  for (const stage of stages) {
    switch (stage.type) {
      case 'where': {
        const p = compile(stage.expr, resolve);
        items = items.filter(p);
        break;
      }
      case 'head':
        items = items.slice(0, stage.n);
        break;
      case 'sort': {
        const field = stage.field;
        const sign = stage.descending ? -1 : 1;
        items = [...items].sort((a, b) => sign * compareValues(resolve(a, field), resolve(b, field)));
        break;
      }
      case 'bin':
        items = items.map((item) => withWindow(item, stage.ms));
        windowed = true;
        break;
      case 'count':
      case 'dc': {
        const agg = aggregator(stage, resolve, windowed);
        for (const item of items) agg.add(item);
        items = agg.rows();
        cols = agg.columns;
        resolve = resolveColumn;
        isRows = true;
        windowed = false;
        break;
      }
    }
  }
  return isRows ? { kind: 'rows', columns: cols, rows: items as Row[] } : { kind: 'events', events: items, total: items.length };
}

/** The event with a `window` field: the start of its `ms`-long window of requestReceivedTimestamp. */
function withWindow(record: unknown, ms: number): unknown {
  const ts = (record as { requestReceivedTimestamp?: unknown }).requestReceivedTimestamp;
  const micros = typeof ts === 'string' ? parseTimestamp(ts) : undefined;
  const window = micros === undefined ? null : formatMicros(Math.floor(micros / (ms * 1000)) * ms * 1000);
  return { ...(record as object), [WINDOW_KEY]: window };
}

export function createRun(query: Query, options: RunOptions = {}): QueryRun {
  const filter: Predicate = query.filter ? compile(query.filter) : () => true;
  // Streaming prefix: where, bin and head before the first sort or aggregation.
  const barrier = query.stages.findIndex((s) => s.type === 'sort' || s.type === 'count' || s.type === 'dc');
  const prefix = barrier < 0 ? query.stages : query.stages.slice(0, barrier);
  const rest = barrier < 0 ? [] : query.stages.slice(barrier);
  let windowed = false;
  const steps: ((record: unknown) => unknown | undefined)[] = [];
  let limit = Infinity;
  for (const stage of prefix) {
    if (stage.type === 'where') {
      const p = compile(stage.expr);
      steps.push((r) => (p(r) ? r : undefined));
    } else if (stage.type === 'bin') {
      windowed = true;
      steps.push((r) => withWindow(r, stage.ms));
    } else if (stage.type === 'head') {
      limit = Math.min(limit, stage.n);
    }
  }
  const first = rest[0];
  const agg = first && (first.type === 'count' || first.type === 'dc') ? aggregator(first, resolveNested, windowed) : undefined;
  const buffered: unknown[] = [];
  const keep = options.keepEvents ?? Infinity;
  let passed = 0;

  return {
    push(event) {
      if (passed >= limit) return false;
      if (!filter(event)) return true;
      let record: unknown = event;
      for (const step of steps) {
        record = step(record);
        if (record === undefined) return true;
      }
      passed++;
      if (agg) agg.add(record);
      else if (first) buffered.push(record);
      else {
        options.onEvent?.(record);
        if (buffered.length < keep) buffered.push(record);
      }
      return passed < limit;
    },
    finish() {
      if (agg) return applyStages(rest.slice(1), agg.rows(), true, agg.columns);
      if (first) return applyStages(rest, buffered, false, []);
      return { kind: 'events', events: buffered, total: passed };
    },
  };
}

/** Runs a query over records already in memory (browser, tests). */
export function runQuery(query: Query, events: Iterable<unknown>, options?: RunOptions): QueryOutput {
  const run = createRun(query, options);
  for (const event of events) if (!run.push(event)) break;
  return run.finish();
}
