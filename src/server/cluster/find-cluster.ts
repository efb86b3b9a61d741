// Finds a cluster by name across the providers that can run on this machine, for commands that
// take `--cluster N` (scenario seed, query, detect).
import type { ClusterInfo, ClusterProvider } from './types.ts';
import { ClusterError } from './types.ts';

export async function findCluster(providers: ClusterProvider[], name: string): Promise<ClusterInfo> {
  for (const provider of providers) {
    const available = await provider.available().catch(() => ({ ok: false }));
    if (!available.ok) continue;
    const found = (await provider.list()).find((c) => c.name === name);
    if (found) return found;
  }
  throw new ClusterError(`no cluster named "${name}"`, '"irlab cluster list" shows the clusters; "irlab cluster create" makes one');
}
