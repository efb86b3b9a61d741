// Seams between cluster code and the machine: running commands, time, and
// process state. Providers take these as parameters so unit tests can drive
// them with scripted runners and a manual clock instead of patching globals.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The child is killed (SIGKILL, by pid) once this passes; code is then 124. */
  timeoutMs?: number;
  /** Streams stderr lines as they arrive (kwokctl/kind log progress there). */
  onStderrLine?: (line: string) => void;
  /** Kills the child (SIGKILL, by pid) when aborted; code is then 130. */
  signal?: AbortSignal;
}

export interface Runner {
  /** Never rejects for a failing command: inspect `code`. 127 = not found. */
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export const nodeRunner: Runner = {
  run(command, args, options = {}) {
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        env: options.env ?? process.env,
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let pending = '';
      let timedOut = false;
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        killQuietly(child.pid);
      };
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              killQuietly(child.pid);
            }, options.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (!options.onStderrLine) return;
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.onStderrLine(line);
      });
      const finish = (result: RunResult) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        finish({ code: err.code === 'ENOENT' ? 127 : 126, stdout, stderr: stderr + err.message });
      });
      child.on('close', (code, signal) => {
        if (timedOut) {
          finish({ code: 124, stdout, stderr: `${stderr}\n${command} timed out after ${options.timeoutMs} ms` });
          return;
        }
        if (aborted) {
          finish({ code: 130, stdout, stderr: `${stderr}\n${command} was cancelled` });
          return;
        }
        finish({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
    });
  },
};

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already exited: nothing to stop.
  }
}

export interface Clock {
  now(): number;
  /** Rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
};

/** Thrown from a waitUntil check when waiting longer cannot help. */
export class StopWaiting extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StopWaiting';
  }
}

/**
 * Polls `check` until it returns true. Errors thrown by `check` count as "not
 * yet" (the API server refuses connections while it starts); the last one is
 * reported if time runs out. A StopWaiting error ends the wait at once.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; clock?: Clock; what: string },
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      lastError = err;
    }
    if (clock.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${why}`);
    }
    await clock.sleep(options.intervalMs ?? 200);
  }
}

/** What every provider is handed so tests can swap the outside world: commands, time, env, binaries. */
export interface ProviderRuntimeOptions {
  runner?: Runner;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Directory with the engine binaries; default <cache>/bin/<k8s-version>. */
  binDir?: string;
}

export type ProcessState = 'running' | 'zombie' | 'gone';

/**
 * kwokctl daemonizes components (setsid, then exits), so they are re-parented
 * to PID 1. Where PID 1 does not reap orphans (some sandboxes), a dead
 * component lingers as a zombie that still answers kill(pid, 0). Reading the
 * state from /proc tells the two apart; elsewhere signal 0 is the best we have.
 */
export function processState(pid: number): ProcessState {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may hold spaces).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X' ? 'zombie' : 'running';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return 'gone';
  }
  try {
    process.kill(pid, 0);
    return 'running';
  } catch {
    return 'gone';
  }
}

export function isProcessAlive(pid: number): boolean {
  return processState(pid) === 'running';
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
