/**
 * A lab run's time limit: every run gets `sessionMinutes` from its start, the learner may extend
 * it by `extendMinutes` at a time, never past `maxMinutes` after the start (each run holds a
 * cluster, a budgeted resource). At the deadline the run ends on the server: a sweep and every
 * access end it, so a closed tab holds no cluster past its time.
 */
import type { RunView } from '../../lib/lab-view.ts';

export interface RunTimeLimit {
  sessionMinutes: number;
  extendMinutes: number;
  /** Total length from the start, extensions included; no longer than the terminal's TTL. */
  maxMinutes: number;
}

/** The defaults of IRLAB_LAB_SESSION_MINUTES, IRLAB_LAB_EXTEND_MINUTES and IRLAB_LAB_MAX_MINUTES. */
export const DEFAULT_TIME_LIMIT: RunTimeLimit = { sessionMinutes: 120, extendMinutes: 30, maxMinutes: 240 };

const MINUTE = 60_000;

/** The deadline of a run started at `startedAt` (also for runs stored before runs had one). */
export function firstDeadline(startedAt: string, limit: RunTimeLimit): string {
  const start = Date.parse(startedAt);
  return new Date(start + Math.min(limit.sessionMinutes, limit.maxMinutes) * MINUTE).toISOString();
}

/** The latest deadline extensions may reach. */
export function latestDeadline(startedAt: string, limit: RunTimeLimit): string {
  return new Date(Date.parse(startedAt) + limit.maxMinutes * MINUTE).toISOString();
}

/** The deadline after one more extension, or undefined when the run is at its maximum already. */
export function extendedDeadline(startedAt: string, expiresAt: string, limit: RunTimeLimit): string | undefined {
  const latest = Date.parse(latestDeadline(startedAt, limit));
  const current = Date.parse(expiresAt);
  if (current >= latest) return undefined;
  return new Date(Math.min(current + limit.extendMinutes * MINUTE, latest)).toISOString();
}

/** What the run bar shows and offers: the deadline, the server's time now, what Extend would add. */
export function timeView(startedAt: string, expiresAt: string, limit: RunTimeLimit, now: Date): Pick<RunView, 'expiresAt' | 'serverTime' | 'extend'> {
  const latest = latestDeadline(startedAt, limit);
  const left = Math.max(0, Math.floor((Date.parse(latest) - Date.parse(expiresAt)) / MINUTE));
  return {
    expiresAt,
    serverTime: now.toISOString(),
    extend: { minutes: Math.min(limit.extendMinutes, left), minutesLeft: left, latestExpiresAt: latest, maxMinutes: limit.maxMinutes },
  };
}
