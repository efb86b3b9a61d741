/**
 * Audit timestamps are RFC 3339 with microseconds ("2026-11-27T09:14:03.512345Z"). Date.parse
 * drops the microseconds, so times are compared as microseconds since the epoch.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Microseconds since the epoch, or undefined when the text is not a timestamp. */
export function parseTimestamp(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return ms * 1000 + Number((frac + '000000').slice(0, 6));
}

/** ISO text for the start of a window (milliseconds precision is enough for window labels). */
export function formatMicros(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString().replace('.000Z', 'Z');
}
