import { describe, expect, it } from 'vitest';

import { runSteps, type Step } from './steps.ts';
import { ClusterError } from './types.ts';

function recorder() {
  const log: string[] = [];
  const step = (name: string, fail?: Error): Step => ({
    name,
    run: async () => {
      log.push(`run ${name}`);
      if (fail) throw fail;
    },
    cleanup: async () => {
      log.push(`undo ${name}`);
    },
  });
  return { log, step };
}

describe('runSteps', () => {
  it('runs steps in order and reports each one', async () => {
    const { log, step } = recorder();
    const seen: string[] = [];
    await runSteps([step('a'), step('b')], { onStep: (s) => seen.push(s) });
    expect(log).toEqual(['run a', 'run b']);
    expect(seen).toEqual(['a', 'b']);
  });

  it('undoes finished steps and the failing one, newest first, and names the step', async () => {
    const { log, step } = recorder();
    const err = await runSteps([step('a'), step('b', new Error('boom')), step('c')]).catch((e: unknown) => e);
    expect(log).toEqual(['run a', 'run b', 'undo b', 'undo a']);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as Error).message).toBe('step "b" failed: boom');
  });

  it('keeps the hint of the failing step and reports cleanups that failed', async () => {
    const failingUndo: Step = {
      name: 'a',
      run: async () => {},
      cleanup: async () => {
        throw new Error('still running');
      },
    };
    const failing: Step = {
      name: 'b',
      run: async () => {
        throw new ClusterError('no binaries', 'run `irlab engine build`');
      },
    };
    const err = (await runSteps([failingUndo, failing]).catch((e: unknown) => e)) as ClusterError;
    expect(err.message).toBe('step "b" failed: no binaries\ncleanup of "a" failed: still running');
    expect(err.hint).toBe('run `irlab engine build`');
  });
});
