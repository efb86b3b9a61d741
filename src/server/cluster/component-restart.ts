// Bringing an embedded cluster's dead components back. kwokctl's binary runtime starts every
// component as a daemon of its own and never looks at them again; `kwokctl start cluster` starts
// exactly those whose pid file does not point at a live process (see apiserver-restart.ts). So a
// repair drops the pid files of the dead, lets kwokctl start them, and waits for /readyz. etcd
// keeps its data dir, so a restarted etcd serves the cluster's objects as they were.

import { APISERVER } from './apiserver-watch.ts';
import { clearStalePidFiles, startStoppedComponents, type RestartContext } from './apiserver-restart.ts';
import type { Problem } from './cluster-watchdog.ts';
import { readPid, readPids, type ClusterPaths } from './kwokctl.ts';
import { processState, waitUntil } from './runtime.ts';
import { ClusterError } from './types.ts';

/** The components of an embedded cluster, as kwokctl names their pid files. */
export const EMBEDDED_COMPONENTS = ['etcd', APISERVER, 'kube-controller-manager', 'kube-scheduler', 'kwok-controller'] as const;

/** Components without a live process (pid file missing, process gone or a zombie). */
export async function deadComponents(paths: ClusterPaths): Promise<string[]> {
  const alive = new Set((await readPids(paths.pidsDir)).filter((p) => processState(p.pid) === 'running').map((p) => p.component));
  return EMBEDDED_COMPONENTS.filter((c) => !alive.has(c));
}

export async function restartDeadComponents(ctx: RestartContext, problem: Problem): Promise<void> {
  if (problem.unready) {
    // Alive but not answering (hung, or lost etcd for good): only a new process helps.
    const pid = await readPid(ctx.paths.pidsDir, APISERVER);
    if (pid !== null && processState(pid) === 'running') {
      ctx.signalProcess(pid, 'SIGKILL');
      await waitUntil(async () => processState(pid) !== 'running', { timeoutMs: 10_000, intervalMs: 50, clock: ctx.clock, what: `kube-apiserver (pid ${pid}) to exit` });
    }
  }
  await clearStalePidFiles(ctx.paths);
  const outcome = await startStoppedComponents(ctx);
  if (!outcome.ok) {
    throw new ClusterError(`cluster ${ctx.name}: restarting ${problem.dead.join(', ') || APISERVER} failed: ${outcome.message}`, 'The cluster will be replaced.');
  }
  const still = await deadComponents(ctx.paths);
  if (still.length) throw new ClusterError(`cluster ${ctx.name}: ${still.join(', ')} did not come back after kwokctl start`, 'The cluster will be replaced.');
}

export type { ClusterPaths };
