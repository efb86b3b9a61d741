// The /terminal page's own clusters: written to the terminal's owner file before they are
// created (so a crash of the server leaves none unreaped), struck off when released or when
// create failed, and a failed create tells the learner no engine output.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providerCapabilities, type ClusterInfo, type ClusterProvider, type ProviderName } from '../cluster/types.ts';
import { engineClusters, terminalClusterOwner } from './cluster-source.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irlab-term-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A provider whose create reports what the owner file said at that moment. */
function provider(name: ProviderName, ownerPath: () => string, fail?: string): ClusterProvider & { listedAtCreate: string[] } {
  const listedAtCreate: string[] = [];
  const unused = () => Promise.reject(new Error('not used here'));
  return {
    name,
    capabilities: providerCapabilities(name),
    listedAtCreate,
    available: async () => ({ ok: true, problems: [] }),
    create: async (options = {}) => {
      listedAtCreate.push(await readFile(ownerPath(), 'utf8'));
      if (fail) throw new Error(fail);
      return { name: options.name!, provider: name, kubeconfigPath: '/k', auditLogPath: '/a', dir: '/d' } satisfies ClusterInfo;
    },
    delete: async () => {},
    list: async () => [],
    kubeconfig: unused,
    auditLog: () => ({ [Symbol.asyncIterator]: () => ({ next: unused }) }),
    setAuditPolicy: unused,
    health: unused,
  };
}

const owned = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as { clusters: string[]; others?: Array<{ provider: string; name: string }> };

describe('terminal clusters', () => {
  it('are in the owner file before create and struck off on release, kind ones under others', async () => {
    const owner = terminalClusterOwner(join(dir, 'state'), join(dir, 'work'));
    for (const kind of ['embedded', 'kind'] as const) {
      const p = provider(kind, () => owner.path);
      const lease = (await engineClusters(async () => ({ provider: p, reason: 'test' }), () => {}, owner)('learner'))!;
      expect(lease.name).toMatch(/^term-[0-9a-f]{12}$/);
      expect(p.listedAtCreate[0]).toContain(lease.name);
      expect(JSON.stringify(await owned(owner.path))).toContain(lease.name);
      await lease.release();
      expect(await owned(owner.path)).toMatchObject({ clusters: [] });
    }
    expect((await owned(owner.path)).others).toEqual([]);
    expect(owner.path).toMatch(/owner-\d+-terminal\.json$/);
  });

  it('a failed create leaves no entry and tells the learner no engine output', async () => {
    const owner = terminalClusterOwner(join(dir, 'state'), join(dir, 'work'));
    const logged: string[] = [];
    const p = provider('kind', () => owner.path, 'docker pull kindest/node: toomanyrequests: rate limit');
    const lease = engineClusters(async () => ({ provider: p, reason: 'test' }), (line) => logged.push(line), owner)('learner');
    await expect(lease).rejects.toThrow(/^a cluster for this terminal could not be created \(kind\); the server log says why$/);
    expect(logged.join('\n')).toContain('toomanyrequests');
    expect(await owned(owner.path)).toMatchObject({ clusters: [], others: [] });
  });
});
