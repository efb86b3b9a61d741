// Starting kube-apiserver through kwokctl and knowing quickly how it went.
// kwokctl (create or start) forks the API server and then polls it for up to
// its --timeout; it does not notice when the process dies at once, e.g. on a
// refused audit policy. So we watch the process next to kwokctl: a dead
// process ends the wait within a poll interval and its own error message is
// lifted from its log, instead of a timeout after two minutes.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { fileSize, lastLines, readPid, readPids, type ClusterPaths } from './kwokctl.ts';
import { processState, waitUntil, type Clock, type RunResult } from './runtime.ts';

export const APISERVER = 'kube-apiserver';

/**
 * `gaveUp`: components that exited before the API server was ready because they stopped waiting
 * for it (a slow start on a loaded machine); the caller starts them again once it is ready.
 */
export type StartOutcome = { ok: true; exit: RunResult; gaveUp?: string[] } | { ok: false; message: string };

/**
 * kube-controller-manager (and kube-scheduler) wait a fixed time for the API server's /healthz
 * and exit when it does not turn healthy in time: under load the API server's post-start hooks
 * (RBAC bootstrap roles, ...) take longer than that. Nothing is wrong with the cluster then.
 */
export function gaveUpWaitingForApiServer(log: string): boolean {
  return /failed to wait for apiserver being healthy/.test(log);
}

export interface WatchOptions {
  paths: ClusterPaths;
  clock: Clock;
  /** Resolves true once /readyz answers ok; may throw while it cannot connect. */
  ready: () => Promise<boolean>;
  timeoutMs: number;
  /** Runs kwokctl; must kill it when the signal aborts. */
  start: (signal: AbortSignal) => Promise<RunResult>;
  /** For messages: "kwokctl create cluster". */
  label: string;
  /**
   * Also fail on the death of any other component (create: etcd or a
   * controller losing a port race). A restart watches only the API server:
   * controllers may legitimately drop out while it is down.
   */
  watchAll?: boolean;
}

export async function startAndWatchApiServer(options: WatchOptions): Promise<StartOutcome> {
  const logPath = join(options.paths.logsDir, `${APISERVER}.log`);
  const logStart = await fileSize(logPath);
  const cancel = new AbortController();
  const start = options.start(cancel.signal);
  let exit: RunResult | undefined;
  void start.then((r) => (exit = r));

  let verdict: 'ready' | 'died' | 'kwokctl-failed' | undefined;
  let dead = APISERVER;
  const gaveUp = new Set<string>();
  try {
    await waitUntil(
      async () => {
        const pid = await readPid(options.paths.pidsDir, APISERVER);
        const others = options.watchAll ? await readPids(options.paths.pidsDir) : [];
        let deadOther: (typeof others)[number] | undefined;
        for (const other of others) {
          if (other.component === APISERVER || gaveUp.has(other.component) || processState(other.pid) === 'running') continue;
          const log = await readFrom(join(options.paths.logsDir, `${other.component}.log`), 0);
          if (gaveUpWaitingForApiServer(log)) gaveUp.add(other.component);
          else deadOther ??= other;
        }
        if (pid !== null && processState(pid) !== 'running') verdict = 'died';
        else if (deadOther) [verdict, dead] = ['died', deadOther.component];
        else if (exit && exit.code !== 0) verdict = 'kwokctl-failed';
        else if (pid !== null && (await options.ready())) verdict = 'ready';
        return verdict !== undefined;
      },
      { timeoutMs: options.timeoutMs, intervalMs: 200, clock: options.clock, what: 'kube-apiserver to become ready' },
    );
  } catch (err) {
    cancel.abort();
    await start;
    const log = await readFrom(logPath, logStart);
    return { ok: false, message: `${(err as Error).message}\n${apiServerError(log) ?? lastLines(log, 10)}` };
  }

  if (verdict === 'ready') return { ok: true, exit: await start, ...(gaveUp.size ? { gaveUp: [...gaveUp] } : {}) };
  cancel.abort();
  const result = await start;
  if (verdict === 'died' && dead !== APISERVER) {
    const log = await readFrom(join(options.paths.logsDir, `${dead}.log`), 0);
    return { ok: false, message: `${dead} exited at startup:\n${lastLines(log, 8)}` };
  }
  if (verdict === 'died') {
    const log = await readFrom(logPath, logStart);
    return { ok: false, message: apiServerError(log) ?? (lastLines(log, 10) || 'kube-apiserver exited at startup') };
  }
  return { ok: false, message: `${options.label} exited with ${result.code}:\n${lastLines(`${result.stderr}\n${result.stdout}`, 15)}` };
}

/**
 * kube-apiserver reports a fatal startup error as a klog line
 * `"command failed" err="..."` (and sometimes a cobra `Error: ...` line);
 * return that error text, unescaped, rather than the surrounding noise.
 */
export function apiServerError(log: string): string | undefined {
  const lines = log.split('\n');
  const fatal = lines.filter((l) => /"command failed"|^Error: /.test(l));
  const line = fatal.find((l) => l.includes('"command failed"')) ?? fatal[fatal.length - 1];
  if (!line) return undefined;
  const err = /err="((?:[^"\\]|\\.)*)"/.exec(line);
  if (!err?.[1]) return line.trim();
  try {
    return JSON.parse(`"${err[1]}"`) as string;
  } catch {
    return err[1];
  }
}

/** kwokctl truncates a component's log when it starts it; then all of it is new. */
async function readFrom(path: string, offset: number): Promise<string> {
  try {
    const data = await readFile(path);
    return data.subarray(data.length < offset ? 0 : offset).toString('utf8');
  } catch {
    return '';
  }
}
