/**
 * Where a new terminal session's cluster comes from. The terminal never creates clusters itself:
 * whoever starts the session (the /terminal page today, a lab or a drill later) passes a
 * `leaseCluster(owner)` function. This file holds the ones the server can pick at start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { OwnerFile } from '../cluster/pool-state.ts';
import type { ClusterProvider } from '../cluster/types.ts';
import type { ClusterLease } from './session.ts';

export type LeaseCluster = (owner: string) => Promise<ClusterLease | null>;

/** No cluster: a shell with kubectl but no KUBECONFIG (the page says so). */
export const noCluster: LeaseCluster = async () => null;

/**
 * Every session gets (a flattened copy of) one existing kubeconfig: an operator's own cluster,
 * or a cluster the engine created for this server. The cluster is not deleted on release.
 */
export function sharedKubeconfig(kubeconfigPath: string, name = 'shared'): LeaseCluster {
  if (!existsSync(kubeconfigPath)) throw new Error(`IRLAB_TERMINAL_KUBECONFIG=${kubeconfigPath} does not exist; point it at a kubeconfig file or unset it.`);
  return async () => ({ name, kubeconfigPath, release: async () => {} });
}

/** Which provider the next session's cluster comes from, and why; null when none can work now. */
export type ChooseProvider = () => Promise<{ provider: ClusterProvider; reason: string } | null>;

/**
 * The owner file of the terminal's own clusters (`owner-<pid>-terminal.json` beside the warm
 * pool's): the next server to start reaps what a crashed one left (pool-state.ts).
 */
export function terminalClusterOwner(stateDir: string, embeddedWorkDir: string): OwnerFile {
  return new OwnerFile(stateDir, embeddedWorkDir, process.pid, 'terminal');
}

/**
 * Each session gets a fresh cluster of its own from the cluster engine, deleted when the session
 * ends. The provider is chosen per session (`choose`), not once at boot: whether kind can work
 * (an engine answers and already holds kind's node image) may change while the server runs, and
 * a session must never make the server pull an image. Every cluster is written to `owner` before
 * it is created and struck off once deleted, so a crash of the server leaves none running.
 */
export function engineClusters(choose: ChooseProvider, log: (line: string) => void = () => {}, owner?: OwnerFile): LeaseCluster {
  return async (learner) => {
    const chosen = await choose();
    if (!chosen) return null;
    const { provider, reason } = chosen;
    const started = Date.now();
    // 48 random bits, as the warm pool's: a name must not come back while an old owner file lists it.
    const name = `term-${randomBytes(6).toString('hex')}`;
    await owner?.add(name, provider.name);
    let info;
    try {
      info = await provider.create({ name });
    } catch (error) {
      // create cleans up after itself; a crash before this line is the reaper's.
      await owner?.remove(name, provider.name);
      // The engine's own output (a docker pull, kwokctl's log) is for the operator, not the learner.
      log(`cluster ${name} (${reason}) for learner ${learner} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new Error(`a cluster for this terminal could not be created (${provider.name}); the server log says why`, { cause: error });
    }
    log(`cluster ${info.name} (${reason}) for learner ${learner} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      name: info.name,
      kubeconfigPath: info.kubeconfigPath,
      release: async () => {
        await provider.delete(info.name);
        await owner?.remove(name, provider.name);
        log(`cluster ${info.name} deleted`);
      },
    };
  };
}
