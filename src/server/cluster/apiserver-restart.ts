// Swapping the audit policy of an embedded cluster. kube-apiserver reads the
// policy only at startup, so the file is replaced and the API server process
// alone is restarted: etcd, controllers and the audit log stay as they are.
//
// kwokctl v0.8 has no per-component restart command, but `kwokctl start
// cluster` starts exactly the components whose pid file does not point at a
// live process. So: stop kube-apiserver, drop its pid file, `start cluster`.
// If the new process dies (policy refused) the old file goes back and the
// same start runs again, so the cluster keeps serving on the old policy.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { APISERVER, startAndWatchApiServer, type StartOutcome } from './apiserver-watch.ts';
import { readPid, readPids, removePidFile, type ClusterPaths, type Kwokctl } from './kwokctl.ts';
import { processState, waitUntil, type Clock } from './runtime.ts';
import { AuditPolicyRejectedError, ClusterError } from './types.ts';

export interface RestartContext {
  name: string;
  paths: ClusterPaths;
  kwokctl: Kwokctl;
  clock: Clock;
  ready: () => Promise<boolean>;
  signalProcess: (pid: number, signal: NodeJS.Signals) => void;
  /** Budget for the new API server to report ready. */
  readyTimeoutMs: number;
}

export async function swapAuditPolicy(ctx: RestartContext, newPolicy: string): Promise<void> {
  const previous = await readFile(ctx.paths.auditPolicy, 'utf8');
  await writeAtomically(ctx.paths.auditPolicy, newPolicy);
  const outcome = await restartApiServer(ctx);
  if (outcome.ok) return;

  await writeAtomically(ctx.paths.auditPolicy, previous);
  const recovered = await restartApiServer(ctx);
  if (!recovered.ok) {
    throw new ClusterError(
      `kube-apiserver refused the new audit policy and did not come back on the previous one.\n` +
        `new policy: ${outcome.message}\nprevious policy: ${recovered.message}`,
      `Inspect ${join(ctx.paths.logsDir, `${APISERVER}.log`)}, then delete and re-create the cluster.`,
    );
  }
  throw new AuditPolicyRejectedError(outcome.message);
}

export async function restartApiServer(ctx: RestartContext): Promise<StartOutcome> {
  await stopApiServer(ctx);
  return startStoppedComponents(ctx);
}

/**
 * `kwokctl start cluster`: starts every component whose pid file names no live process, then
 * waits for the API server's /readyz. A refused API server is dead (or a zombie): its pid file is
 * dropped, so the next start does not skip it.
 */
export async function startStoppedComponents(ctx: RestartContext): Promise<StartOutcome> {
  const seconds = Math.ceil(ctx.readyTimeoutMs / 1000);
  const outcome = await startAndWatchApiServer({
    paths: ctx.paths,
    clock: ctx.clock,
    ready: ctx.ready,
    timeoutMs: ctx.readyTimeoutMs,
    label: 'kwokctl start cluster',
    start: (signal) =>
      ctx.kwokctl.run(['start', 'cluster', `--name=${ctx.name}`, `--timeout=${seconds}s`], {
        timeoutMs: ctx.readyTimeoutMs + 10_000,
        signal,
      }),
  });
  if (!outcome.ok) await clearStalePidFiles(ctx.paths);
  return outcome;
}

async function stopApiServer(ctx: RestartContext): Promise<void> {
  const pid = await readPid(ctx.paths.pidsDir, APISERVER);
  if (pid !== null && processState(pid) === 'running') {
    // SIGKILL, as `kwokctl stop` does: on SIGTERM kube-apiserver drains its
    // open watches for up to 60 s (measured), which would stall every policy
    // swap. Nothing is lost: the log backend writes each audit event before
    // the response is sent.
    ctx.signalProcess(pid, 'SIGKILL');
    await waitUntil(async () => processState(pid) !== 'running', {
      timeoutMs: 10_000,
      intervalMs: 50,
      clock: ctx.clock,
      what: `kube-apiserver (pid ${pid}) to exit`,
    });
  }
  await clearStalePidFiles(ctx.paths);
}

/**
 * `kwokctl start` skips a component whose pid answers kill(pid, 0), which a
 * zombie does. Dropping pid files of dead components (the API server just
 * stopped, or a controller that lost its lease while it was down) makes
 * kwokctl start exactly those.
 */
export async function clearStalePidFiles(paths: ClusterPaths): Promise<void> {
  for (const entry of await readPids(paths.pidsDir)) {
    if (processState(entry.pid) !== 'running') await removePidFile(paths.pidsDir, entry.component);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.irlab-tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}
