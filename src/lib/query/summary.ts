/**
 * What the query panel shows beside the results: the most frequent values of the fields an
 * investigator pivots on, and events per minute with the highlighted identities' share. Built
 * incrementally (one `add` per matching event) so it works on a streamed scan of any size.
 */
import { parseTimestamp } from './time.ts';

export const SIDEBAR_FIELDS = ['user.username', 'verb', 'objectRef.resource', 'objectRef.namespace', 'objectRef.subresource', 'responseStatus.code', 'sourceIPs', 'userAgent'] as const;

/** Distinct values kept per field; beyond it values are counted as "other". */
const MAX_DISTINCT = 2000;

export interface TopValue {
  value: string | number;
  count: number;
}

export interface FieldTop {
  field: string;
  /** Events where the field has a value. */
  present: number;
  values: TopValue[];
  /** Events whose value was not tracked because the field had too many distinct values. */
  other: number;
}

export interface MinuteBucket {
  /** Start of the minute, RFC 3339. */
  minute: string;
  count: number;
  /** Events in this minute by a highlighted identity. */
  highlighted: number;
}

export interface Summary {
  fields: FieldTop[];
  timeline: MinuteBucket[];
}

function valuesAt(event: unknown, path: string): unknown[] {
  let current: unknown = event;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return [];
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined || current === null) return [];
  return Array.isArray(current) ? current.filter((v) => typeof v === 'string' || typeof v === 'number') : typeof current === 'string' || typeof current === 'number' ? [current] : [];
}

export class SummaryBuilder {
  private readonly counts = new Map<string, { present: number; other: number; values: Map<string | number, number> }>();
  /** Per minute: events per username, so that any set of identities can be highlighted afterwards. */
  private readonly minutes = new Map<number, { count: number; users: Map<string, number> }>();

  constructor() {
    for (const field of SIDEBAR_FIELDS) this.counts.set(field, { present: 0, other: 0, values: new Map() });
  }

  add(event: unknown) {
    for (const [field, entry] of this.counts) {
      const values = valuesAt(event, field);
      if (values.length) entry.present++;
      for (const value of new Set(values as (string | number)[])) {
        const seen = entry.values.get(value);
        if (seen !== undefined) entry.values.set(value, seen + 1);
        else if (entry.values.size < MAX_DISTINCT) entry.values.set(value, 1);
        else entry.other++;
      }
    }
    const ts = (event as { requestReceivedTimestamp?: unknown }).requestReceivedTimestamp;
    const micros = typeof ts === 'string' ? parseTimestamp(ts) : undefined;
    if (micros === undefined) return;
    const minute = Math.floor(micros / 60_000_000);
    let bucket = this.minutes.get(minute);
    if (!bucket) this.minutes.set(minute, (bucket = { count: 0, users: new Map() }));
    bucket.count++;
    const user = (event as { user?: { username?: unknown } }).user?.username;
    if (typeof user === 'string') bucket.users.set(user, (bucket.users.get(user) ?? 0) + 1);
  }

  /**
   * Top `limit` values per field; the timeline with empty minutes filled in (at most
   * `maxMinutes`), counting the events of the `highlight` identities in each minute.
   */
  result(highlight: Iterable<string> = [], limit = 8, maxMinutes = 24 * 60): Summary {
    const marked = [...new Set(highlight)];
    const fields = [...this.counts].map(([field, { present, other, values }]) => ({
      field,
      present,
      other,
      values: [...values].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, limit).map(([value, count]) => ({ value, count })),
    }));
    const keys = [...this.minutes.keys()].sort((a, b) => a - b);
    const timeline: MinuteBucket[] = [];
    if (keys.length) {
      const first = keys[0]!;
      const last = Math.min(keys[keys.length - 1]!, first + maxMinutes - 1);
      for (let m = first; m <= last; m++) {
        const b = this.minutes.get(m);
        const highlighted = b ? marked.reduce((n, user) => n + (b.users.get(user) ?? 0), 0) : 0;
        timeline.push({ minute: new Date(m * 60_000).toISOString().replace('.000Z', 'Z'), count: b?.count ?? 0, highlighted });
      }
    }
    return { fields, timeline };
  }
}
