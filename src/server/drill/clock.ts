/**
 * The drill clock, derived from persisted fields only (so a restart loses nothing): the elapsed
 * drill time at the last transition, plus wall time since `runningSince` while running. Pauses
 * stop it; fast-forward adds to it.
 */
export interface ClockFields {
  elapsedMs: number;
  /** Epoch ms of the last start/resume while running; null when not running. */
  runningSince: number | null;
}

export function elapsedAt(fields: ClockFields, nowMs: number): number {
  return fields.elapsedMs + (fields.runningSince === null ? 0 : Math.max(0, nowMs - fields.runningSince));
}

/** Stop the clock at `nowMs` (pause, end). */
export function stopped(fields: ClockFields, nowMs: number): ClockFields {
  return { elapsedMs: elapsedAt(fields, nowMs), runningSince: null };
}

/** Run the clock from `nowMs` (start, resume). */
export function running(fields: ClockFields, nowMs: number): ClockFields {
  return { elapsedMs: elapsedAt(fields, nowMs), runningSince: nowMs };
}

/** Jump ahead; a running clock keeps running from the new reading. */
export function fastForwarded(fields: ClockFields, nowMs: number, byMs: number): ClockFields {
  const elapsedMs = elapsedAt(fields, nowMs) + byMs;
  return { elapsedMs, runningSince: fields.runningSince === null ? null : nowMs };
}
