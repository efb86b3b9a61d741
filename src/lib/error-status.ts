/**
 * The HTTP status an error stands for, recognised without `instanceof`. serve.ts runs the
 * TypeScript sources while Astro's build bundles its own copy of the same modules, so one process
 * holds two `LabError` classes: the lab service (created by serve.ts) throws one, the endpoint
 * (in Astro's bundle) checks the other, and `instanceof` says no. A brand under a registered
 * symbol is the same in every copy.
 */
const STATUS = Symbol.for('irlab.error.status');

/** Marks `error` as one a client caused or may act on, answered with `status` (400-599). */
export function brandStatus(error: object, status: number): void {
  Object.defineProperty(error, STATUS, { value: status, enumerable: false, configurable: true });
}

/** The status `error` was branded with, or undefined: an unexpected error (a 500). */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { [STATUS]?: unknown })[STATUS];
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : undefined;
}

/** The `hint` an error carries (ClusterError, QuizError), whichever copy of its class made it. */
export function hintOf(error: unknown): string | undefined {
  const hint = typeof error === 'object' && error !== null ? (error as { hint?: unknown }).hint : undefined;
  return typeof hint === 'string' && hint ? hint : undefined;
}
