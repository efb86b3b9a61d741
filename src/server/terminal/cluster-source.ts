/**
 * Where a new terminal session's cluster comes from. The terminal never creates clusters itself:
 * whoever starts the session (the /terminal page today, a lab or a drill later) passes a
 * `leaseCluster(owner)` function. This file holds the ones the server can pick at start.
 */
import { existsSync } from 'node:fs';
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
