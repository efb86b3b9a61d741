/**
 * Reading engine/build.sh's progress: its `plan:` and `step k/n id: what` lines, and an
 * estimate of the time left from past durations of each step (kept in the cache) or, before any
 * build finished here, from durations measured on a 2-core machine (docs/engine.md).
 */

/** What one line of build.sh's output says, when it says something we follow. */
export type BuildLine =
  | { type: 'plan'; steps: string[] }
  | { type: 'step'; index: number; count: number; id: string; what: string }
  | { type: 'waiting'; message: string }
  | { type: 'error'; message: string };

const LOG_PREFIX = /^\[engine(?: \d\d:\d\d:\d\d)?\] /;

export function parseBuildLine(line: string): BuildLine | undefined {
  const error = /^\[engine\] ERROR: (.*)$/.exec(line);
  if (error) return { type: 'error', message: error[1]! };
  if (!LOG_PREFIX.test(line)) return undefined;
  const text = line.replace(LOG_PREFIX, '');
  const plan = /^plan: (.+)$/.exec(text);
  if (plan) return { type: 'plan', steps: plan[1]!.trim().split(/\s+/) };
  const step = /^step (\d+)\/(\d+) ([a-z0-9-]+): (.*)$/.exec(text);
  if (step) return { type: 'step', index: Number(step[1]), count: Number(step[2]), id: step[3]!, what: step[4]! };
  if (text.startsWith('waiting: ')) return { type: 'waiting', message: text.slice('waiting: '.length) };
  return undefined;
}

/**
 * Seconds each step took on a cold build here (2 cores, empty Go build cache, `nice -n 10`;
 * docs/engine.md "Measured cost"): k8s is the 9 min 38 s measured for the four upstream binaries
 * less what irlab-kube's two fewer links save. Used until a build on this machine has recorded
 * its own.
 */
export const MEASURED_STEP_SECONDS: Readonly<Record<string, number>> = {
  k8s: 570,
  etcd: 56,
  kwok: 107,
  kwokctl: 11,
  kind: 4,
  packages: 1,
  podsandbox: 5,
  verify: 1,
};

/** Seconds per step: what this machine recorded, else the measured figure, else a minute. */
export function stepSeconds(id: string, recorded: Readonly<Record<string, number>>): number {
  return recorded[id] ?? MEASURED_STEP_SECONDS[id] ?? 60;
}

export interface Estimate {
  /** Seconds still to go, never below a few seconds while a step runs. */
  remainingSeconds: number;
  /** Share of the whole build done, 0..1, for the bar. */
  fraction: number;
}

/**
 * The time left when step `index` (0-based) of `plan` has run for `stepElapsed` seconds. A step
 * running past its estimate is taken to need a little more (a tenth of its estimate), not to be
 * done: the bar slows down instead of claiming 100 %.
 */
export function estimate(plan: readonly string[], index: number, stepElapsed: number, recorded: Readonly<Record<string, number>>): Estimate {
  const seconds = plan.map((id) => stepSeconds(id, recorded));
  const total = seconds.reduce((sum, s) => sum + s, 0);
  const current = seconds[index] ?? 0;
  const currentLeft = Math.max(current - stepElapsed, current * 0.1, 1);
  const later = seconds.slice(index + 1).reduce((sum, s) => sum + s, 0);
  const remainingSeconds = Math.round(currentLeft + later);
  const done = seconds.slice(0, index).reduce((sum, s) => sum + s, 0) + (current - Math.min(currentLeft, current));
  return { remainingSeconds, fraction: total > 0 ? Math.min(0.99, Math.max(0, done / total)) : 0 };
}
