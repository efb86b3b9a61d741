// Cluster creation as named, ordered steps (the way kind reports progress).
// Each step may register its own undo; when a step fails, the undos of the
// steps that ran (including the failing one, which may have half-finished)
// run in reverse so a failed create leaves no processes or directories.

import { ClusterError } from './types.ts';

export interface Step {
  name: string;
  run: () => Promise<void>;
  /** Undo for this step; runs on a later (or this) step's failure. */
  cleanup?: () => Promise<void>;
}

export interface StepHooks {
  onStep?: (name: string) => void;
}

export async function runSteps(steps: readonly Step[], hooks: StepHooks = {}): Promise<void> {
  const started: Step[] = [];
  for (const step of steps) {
    hooks.onStep?.(step.name);
    started.push(step);
    try {
      await step.run();
    } catch (err) {
      const cleanupErrors = await undo(started);
      throw stepError(step.name, err, cleanupErrors);
    }
  }
}

async function undo(started: readonly Step[]): Promise<string[]> {
  const errors: string[] = [];
  for (const step of [...started].reverse()) {
    if (!step.cleanup) continue;
    try {
      await step.cleanup();
    } catch (err) {
      errors.push(`cleanup of "${step.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return errors;
}

function stepError(name: string, err: unknown, cleanupErrors: readonly string[]): ClusterError {
  const message = err instanceof Error ? err.message : String(err);
  const leftovers = cleanupErrors.length ? `\n${cleanupErrors.join('\n')}` : '';
  const hint = err instanceof ClusterError ? err.hint : undefined;
  return new ClusterError(`step "${name}" failed: ${message}${leftovers}`, hint, { cause: err });
}
