/**
 * The HTTP status an error stands for: one brand for every error class (LabError, DrillError,
 * QuizError, ClusterError, HttpError), so `errorResponse` needs no list of classes. Each class
 * exists once in the process (Astro's server build imports src/server/** from the sources:
 * src/server/app/server-modules-external.ts); the brand under a registered symbol would also
 * survive a second copy.
 */
const STATUS = Symbol.for('irlab.error.status');

/** Marks `error` as one a client caused or may act on, answered with `status` (400-599). */
export function brandStatus(error: object, status: number): void {
  Object.defineProperty(error, STATUS, { value: status, enumerable: false, configurable: true });
}

/**
 * An error a client caused or may act on, answered with `status`: each module's error class
 * extends it for its name (LabError, DrillError, PlacementError, ...), so the shape and the brand
 * are written once.
 */
export class StatusError extends Error {
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    brandStatus(this, status);
  }
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
