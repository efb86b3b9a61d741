/**
 * A front's cluster source: a front hosts no clusters (cells do), so its lab service can read runs
 * and progress but never makes, finds or re-seeds a cluster. A request that would need one was
 * routed to the learner's cell (front-proxy.ts); reaching this is a routing gap, answered 503.
 */
import type { ClusterProvider } from '../cluster/types.ts';
import type { ClusterSource } from '../lab/cluster-source.ts';
import { LabError } from '../lab/lab-error.ts';

export function noClusters(provider: ClusterProvider): ClusterSource {
  return {
    provider,
    acquire: () => Promise.reject(new LabError('this server is a front: lab clusters run on cells, and this request was not sent to one; reload the page and press Start', 503)),
    release: async () => {},
    find: async () => undefined,
  };
}
