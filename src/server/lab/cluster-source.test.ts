// freshClusters starts irlab's pod runtime only where the provider says pods are simulated: it
// asks the capability, not the provider's name.
import { describe, expect, it } from 'vitest';
import type { ClusterProvider } from '../cluster/types.ts';
import { freshClusters } from './cluster-source.ts';

describe('freshClusters', () => {
  // A provider that makes clusters whose API server is nowhere: a pod runtime started on one fails.
  const provider = (realContainers: boolean): ClusterProvider & { deleted: string[] } => {
    const deleted: string[] = [];
    const unused = () => Promise.reject(new Error('not used here'));
    return {
      name: 'embedded',
      capabilities: { realContainers, learnerCredential: false },
      deleted,
      available: async () => ({ ok: true, problems: [] }),
      create: async () => ({ name: 'c1', provider: 'embedded', kubeconfigPath: '/nonexistent/kubeconfig', auditLogPath: '/a', dir: '/d' }),
      delete: async (name) => void deleted.push(name),
      list: async () => [],
      kubeconfig: unused,
      auditLog: () => ({ [Symbol.asyncIterator]: () => ({ next: unused }) }),
      setAuditPolicy: unused,
      health: unused,
    };
  };

  it('starts no pod runtime where pods are real containers, whatever the provider is called', async () => {
    const real = provider(true);
    await expect(freshClusters(real).acquire(() => {})).resolves.toMatchObject({ name: 'c1' });
    expect(real.deleted).toEqual([]);
  });

  it('starts one where pods are simulated (here it cannot, so the cluster is deleted)', async () => {
    const simulated = provider(false);
    await expect(freshClusters(simulated).acquire(() => {})).rejects.toThrow();
    expect(simulated.deleted).toEqual(['c1']);
  });
});
