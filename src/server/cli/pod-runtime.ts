/**
 * `irlab cluster pod-runtime N`: the pod runtime (src/server/cluster/pod-runtime.ts) for a cluster
 * made by `irlab cluster create`, in the foreground until Ctrl-C. An embedded cluster's pods are
 * simulated by kwok: `kubectl exec` and `kubectl logs` reach a pod only once the runtime has given
 * it a tree and kwok's Exec and Logs objects. The server runs it for the clusters of labs; a
 * cluster made on the command line gets it from this command (`cluster create` itself returns
 * at once, so that `KUBECONFIG=$(irlab cluster create)` works in scripts). Pods prepared while it
 * ran keep working after it stops; pods created later need it running.
 */
import type { ClusterProvider } from '../cluster/types.ts';

export interface PodRuntimeIo {
  err: (text: string) => void;
  /** Ends the command (Ctrl-C); required, so that a test can stop it too. */
  signal: AbortSignal;
  providers?: () => ClusterProvider[];
}

export const POD_RUNTIME_USAGE = 'usage: irlab cluster pod-runtime N   (runs until Ctrl-C: kubectl exec and logs work for the pods of N meanwhile)';

export async function podRuntimeCommand(args: string[], io: PodRuntimeIo): Promise<number> {
  const [name, ...extra] = args;
  if (!name || name.startsWith('-') || extra.length) {
    io.err(POD_RUNTIME_USAGE);
    return 2;
  }
  const [{ findCluster }, { capabilitiesOf, formatClusterError }] = await Promise.all([import('../cluster/find-cluster.ts'), import('../cluster/types.ts')]);
  try {
    const providers = io.providers ? io.providers() : (await import('../cluster/select-provider.ts')).allProviders();
    const cluster = await findCluster(providers, name);
    if (capabilitiesOf(cluster).realContainers) {
      io.err(`${name} is a ${cluster.provider} cluster: its pods run in real containers, so kubectl exec and logs work without irlab's pod runtime`);
      return 2;
    }
    const { PodRuntime } = await import('../cluster/pod-runtime.ts');
    const runtime = await PodRuntime.start(cluster, { onError: (error) => io.err(`pod runtime: ${error.message}`) });
    io.err(`pod runtime for ${name} running: kubectl exec and logs work for its pods (existing and new) until Ctrl-C`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await runtime.stop();
    io.err(`pod runtime for ${name} stopped: pods prepared so far keep working, new pods get no exec or logs`);
    return 0;
  } catch (error) {
    io.err(`irlab cluster pod-runtime: ${formatClusterError(error)}`);
    return 1;
  }
}
