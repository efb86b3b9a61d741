// freshClusters starts irlab's pod runtime only where the provider says pods are simulated: it
// asks the capability, not the provider's name. ownedClusters (labs on kind) keeps what it handed
// out in memory: a lookup lists no state directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterProvider } from '../cluster/types.ts';
import { freshClusters, ownedClusters } from './cluster-source.ts';

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

describe('ownedClusters', () => {
  // A provider whose clusters are a kubeconfig file each in a temp directory; list() counts its calls.
  async function recordingProvider() {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-owned-'));
    const calls = { list: 0, deleted: [] as string[] };
    const unused = () => Promise.reject(new Error('not used here'));
    const provider: ClusterProvider = {
      name: 'kind',
      capabilities: { realContainers: true, learnerCredential: true },
      available: async () => ({ ok: true, problems: [] }),
      create: async (options) => {
        const kubeconfigPath = path.join(dir, `${options!.name!}.kubeconfig.yaml`);
        await writeFile(kubeconfigPath, 'apiVersion: v1\n');
        return { name: options!.name!, provider: 'kind', kubeconfigPath, auditLogPath: '/a', dir };
      },
      delete: async (name) => {
        calls.deleted.push(name);
        await rm(path.join(dir, `${name}.kubeconfig.yaml`), { force: true });
      },
      list: async () => {
        calls.list += 1;
        return [];
      },
      kubeconfig: unused,
      auditLog: () => ({ [Symbol.asyncIterator]: () => ({ next: unused }) }),
      setAuditPolicy: unused,
      health: unused,
      learnerAccess: unused,
    };
    const owned: string[] = [];
    const owner = { add: async (name: string) => void owned.push(name), remove: async (name: string) => void owned.splice(owned.indexOf(name), 1) };
    return { dir, calls, provider, owned, owner };
  }

  it('finds what it handed out from memory (the same object, the learner credential on it), never by listing the state directory', async () => {
    const { dir, calls, provider, owned, owner } = await recordingProvider();
    try {
      const source = ownedClusters(provider, owner);
      const cluster = await source.acquire(() => {});
      expect(owned).toEqual([cluster.name]);
      cluster.learnerKubeconfigPath = '/learner.kubeconfig.yaml';
      for (let i = 0; i < 5; i++) expect(await source.find(cluster.name)).toBe(cluster);
      expect(await source.find('lab-not-ours')).toBeUndefined();
      expect(calls.list).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('forgets a released cluster, and one deleted behind its back; releaseAll deletes the rest and strikes them off the owner file', async () => {
    const { dir, calls, provider, owned, owner } = await recordingProvider();
    try {
      const source = ownedClusters(provider, owner);
      const [a, b, c] = [await source.acquire(() => {}), await source.acquire(() => {}), await source.acquire(() => {})];
      await source.release(a.name);
      expect(await source.find(a.name)).toBeUndefined();
      await rm(b.kubeconfigPath);
      expect(await source.find(b.name)).toBeUndefined();
      await source.releaseAll();
      expect(calls.deleted.sort()).toEqual([a.name, b.name, c.name].sort());
      expect(owned).toEqual([]);
      expect(await source.find(c.name)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
