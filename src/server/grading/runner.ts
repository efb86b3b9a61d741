/**
 * Runs one check with a time limit that cancels it. The check gets an AbortSignal that aborts
 * when the limit is spent or the caller's own signal aborts (a drill that ended, a server shutting
 * down); the runner stops waiting at that moment, whether or not the check has noticed yet, and
 * the check's requests, reads and sleeps stop with the signal (context.ts builds the context's
 * kubeConfig and audit reads on it). Once the check settles the signal aborts too, so work it
 * left behind (the rest of a Promise.all after one request failed) does not run on.
 */
import type { CheckResult } from '../../lib/check-result.ts';
import { brandStatus } from '../../lib/error-status.ts';
import type { Check, LabContext } from '../lab/check.ts';

/** A check that ran out of time: 504, the learner may try again. */
export class CheckTimeoutError extends Error {
  readonly check: string;
  readonly limitMs: number;
  constructor(check: string, limitMs: number) {
    super(`the ${check} check took longer than ${limitMs / 1000} s; try again`);
    this.name = 'CheckTimeoutError';
    this.check = check;
    this.limitMs = limitMs;
    brandStatus(this, 504);
  }
}

/** Settled work, cancelled work (the check finished): the reason the signal gives its work. */
class CheckFinished extends Error {
  constructor(check: string) {
    super(`the ${check} check has finished`);
    this.name = 'AbortError';
  }
}

export interface RunCheckOptions {
  limitMs: number;
  /** The caller's: aborting it cancels the check with the caller's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * `check.run` with the context `contextFor(signal)` builds on the run's own signal. Rejects with
 * CheckTimeoutError past the limit, or with the caller's abort reason.
 */
export async function runCheck(check: Check, contextFor: (signal: AbortSignal) => LabContext, options: RunCheckOptions): Promise<CheckResult> {
  const { limitMs } = options;
  const run = new AbortController();
  const outer = options.signal;
  const onOuter = () => run.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const timer = setTimeout(() => run.abort(new CheckTimeoutError(check.name, limitMs)), limitMs);
  const stopped = new Promise<never>((_, reject) => {
    if (run.signal.aborted) reject(run.signal.reason as Error);
    else run.signal.addEventListener('abort', () => reject(run.signal.reason as Error), { once: true });
  });
  try {
    run.signal.throwIfAborted();
    const work = Promise.resolve().then(() => check.run(contextFor(run.signal), run.signal));
    // Abandoned after an abort, it still settles (as an AbortError): nobody is left to hear it.
    work.catch(() => {});
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
    stopped.catch(() => {});
    if (!run.signal.aborted) run.abort(new CheckFinished(check.name));
  }
}
