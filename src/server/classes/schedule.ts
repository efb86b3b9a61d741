/**
 * A class's schedule: when it starts, how long it runs and how many learners the instructor
 * expects. Warm pools are sized from it ahead of the start (cells/warm-plan.ts), so the numbers
 * are budgets: bounded here (and the plan caps them again by the cells' free slots and the
 * operator's ceiling), never trusted to size anything on their own.
 */
import { z } from 'zod';
import type { SqlStore } from '../store/sql-store.ts';

export interface ClassSchedule {
  /** ISO time, UTC. */
  startsAt: string;
  /** ISO time, UTC; after startsAt. */
  endsAt: string;
  expectedLearners: number;
}

/** The longest a class may run: a week (a multi-day event). */
export const SCHEDULE_MAX_MINUTES = 7 * 24 * 60;
/** The most learners a class may expect unless the operator lowers it (a 1,000-learner event fits). */
export const EXPECTED_LEARNERS_MAX = 10_000;
/** A start this far in the past is refused (a typo in the date, not a class that runs now). */
const PAST_MS = 24 * 3_600_000;
/** A start this far ahead is refused. */
const AHEAD_MS = 366 * 24 * 3_600_000;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

const scheduleInput = (maxLearners: number) =>
  z
    .object({
      startsAt: z.string({ error: '"startsAt" must be a date and time with its zone, like 2026-12-08T09:00:00Z' }).regex(ISO_TIME, '"startsAt" must be a date and time with its zone, like 2026-12-08T09:00:00Z'),
      minutes: z
        .number({ error: `"minutes" must be how long the class runs, a whole number of minutes from 15 to ${SCHEDULE_MAX_MINUTES}` })
        .int(`"minutes" must be a whole number of minutes from 15 to ${SCHEDULE_MAX_MINUTES}`)
        .min(15, '"minutes" must be at least 15')
        .max(SCHEDULE_MAX_MINUTES, `"minutes" must be at most ${SCHEDULE_MAX_MINUTES} (a week)`),
      expectedLearners: z
        .number({ error: `"expectedLearners" must be a whole number from 1 to ${maxLearners}` })
        .int(`"expectedLearners" must be a whole number from 1 to ${maxLearners}`)
        .min(1, '"expectedLearners" must be at least 1')
        .max(maxLearners, `"expectedLearners" must be at most ${maxLearners} (the operator's bound, IRLAB_CLASS_MAX_EXPECTED)`),
    })
    .strict();

/** Whether the date part names a day the calendar has (Date.parse reads 2026-02-31 as 3 March). */
function realDay(iso: string): boolean {
  const [year, month, day] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export type ParsedSchedule = { ok: true; value: ClassSchedule | null } | { ok: false; error: string };

/** `null` clears the schedule; otherwise {startsAt, minutes, expectedLearners}, checked against `now`. */
export function parseSchedule(input: unknown, now: Date, maxLearners = EXPECTED_LEARNERS_MAX): ParsedSchedule {
  if (input === null) return { ok: true, value: null };
  const bound = Math.max(1, Math.min(EXPECTED_LEARNERS_MAX, Math.floor(maxLearners)));
  const parsed = scheduleInput(bound).safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue?.code === 'unrecognized_keys' ? `a schedule has only startsAt, minutes and expectedLearners (not ${issue.keys.join(', ')})` : (issue?.message ?? 'not a schedule');
    return { ok: false, error: input === undefined || typeof input !== 'object' || Array.isArray(input) ? '"schedule" must be {startsAt, minutes, expectedLearners}, or null to clear it' : message };
  }
  const start = Date.parse(parsed.data.startsAt);
  if (Number.isNaN(start) || !realDay(parsed.data.startsAt)) return { ok: false, error: '"startsAt" is not a real date and time' };
  if (start < now.getTime() - PAST_MS) return { ok: false, error: '"startsAt" is more than a day in the past: check the date (a class that runs now starts today)' };
  if (start > now.getTime() + AHEAD_MS) return { ok: false, error: '"startsAt" is more than a year ahead: check the year' };
  return {
    ok: true,
    value: { startsAt: new Date(start).toISOString(), endsAt: new Date(start + parsed.data.minutes * 60_000).toISOString(), expectedLearners: parsed.data.expectedLearners },
  };
}

/** A class the warm pools should be ready for now. Times are epoch milliseconds. */
export interface DueClass {
  id: string;
  startsAt: number;
  endsAt: number;
  expectedLearners: number;
  /** Its assigned labs, by slug. */
  labs: string[];
  /** Its members who started a lab run since the class started (each took a cluster already). */
  arrived: number;
}

/**
 * Open classes that start within `leadMs` of `now` or are running, with their labs and how many
 * of their members already started a lab run since the start. Read by every cell from the shared
 * store, so cells agree on the demand without talking.
 */
export async function dueClasses(store: SqlStore, now: Date, leadMs: number): Promise<DueClass[]> {
  const rows = await store.all<{ id: string; starts_at: string; ends_at: string; expected_learners: number; arrived: number }>(
    `SELECT c.id, c.starts_at, c.ends_at, c.expected_learners,
            (SELECT COUNT(DISTINCT r.learner_id) FROM lab_runs r JOIN class_members m ON m.learner_id = r.learner_id
              WHERE m.class_id = c.id AND r.started_at >= c.starts_at) AS arrived
       FROM classes c
      WHERE c.closed_at IS NULL AND c.starts_at IS NOT NULL AND c.expected_learners IS NOT NULL
        AND c.starts_at <= ? AND c.ends_at > ?
      ORDER BY c.starts_at, c.id`,
    [new Date(now.getTime() + leadMs).toISOString(), now.toISOString()],
  );
  const labs = rows.length
    ? await store.all<{ class_id: string; slug: string }>(
        `SELECT class_id, slug FROM class_assignments WHERE kind = 'lab' AND class_id IN (${rows.map(() => '?').join(', ')}) ORDER BY class_id, seq, slug`,
        rows.map((r) => r.id),
      )
    : [];
  return rows.map((r) => ({
    id: r.id,
    startsAt: Date.parse(r.starts_at),
    endsAt: Date.parse(r.ends_at),
    expectedLearners: Number(r.expected_learners),
    labs: labs.filter((l) => l.class_id === r.id).map((l) => l.slug),
    arrived: Number(r.arrived),
  }));
}
