import { describe, expect, it } from 'vitest';

import { nodeRunner, processState, StopWaiting, waitUntil, type Clock } from './runtime.ts';

/** Time only moves when the code under test sleeps. */
function manualClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('waitUntil', () => {
  it('treats errors as "not yet" and reports the last one on timeout', async () => {
    const clock = manualClock();
    let calls = 0;
    const check = async () => {
      calls++;
      throw new Error(`connect ECONNREFUSED (${calls})`);
    };
    await expect(waitUntil(check, { timeoutMs: 1_000, intervalMs: 250, clock, what: 'the API server' })).rejects.toThrow(
      'timed out after 1000 ms waiting for the API server: connect ECONNREFUSED (5)',
    );
    expect(clock.slept).toEqual([250, 250, 250, 250]);
  });

  it('stops at once on StopWaiting, and returns as soon as the check passes', async () => {
    const clock = manualClock();
    const dead = async (): Promise<boolean> => {
      throw new StopWaiting('kube-controller-manager exited');
    };
    await expect(waitUntil(dead, { timeoutMs: 60_000, clock, what: 'x' })).rejects.toThrow('kube-controller-manager exited');
    expect(clock.slept).toEqual([]);
    let n = 0;
    await waitUntil(async () => ++n === 3, { timeoutMs: 60_000, intervalMs: 10, clock, what: 'x' });
    expect(n).toBe(3);
  });
});

describe('nodeRunner', () => {
  it('reports exit codes, output, missing commands, timeouts and cancellation', async () => {
    expect(await nodeRunner.run('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await nodeRunner.run('irlab-no-such-command', [])).code).toBe(127);
    expect((await nodeRunner.run('sleep', ['5'], { timeoutMs: 100 })).code).toBe(124);
    const abort = new AbortController();
    const run = nodeRunner.run('sleep', ['5'], { signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    expect((await run).code).toBe(130);
  });

  it('streams stderr lines as they arrive', async () => {
    const lines: string[] = [];
    await nodeRunner.run('sh', ['-c', 'echo a >&2; echo b >&2'], { onStderrLine: (l) => lines.push(l) });
    expect(lines).toEqual(['a', 'b']);
  });
});

describe('processState', () => {
  it('sees this process running and a reaped one gone', async () => {
    expect(processState(process.pid)).toBe('running');
    const { spawn } = await import('node:child_process');
    const child = spawn('true');
    await new Promise((resolve) => child.on('close', resolve));
    expect(processState(child.pid ?? -1)).toBe('gone');
  });
});
