// Callers ask what a cluster can do, not which engine made it: each provider declares its
// capabilities, and a cluster's are its provider's.
import { describe, expect, it } from 'vitest';
import { EmbeddedProvider } from './embedded-provider.ts';
import { KindProvider } from './kind-provider.ts';
import { capabilitiesOf, PROVIDER_NAMES, providerCapabilities, type ClusterInfo } from './types.ts';

describe('cluster capabilities', () => {
  it('kind runs pods as real containers on a node; the embedded engine simulates them', () => {
    expect(new KindProvider({ env: {} }).capabilities).toEqual({ realContainers: true });
    expect(new EmbeddedProvider({ env: {} }).capabilities).toEqual({ realContainers: false });
  });

  it('a cluster can do what its provider declares', () => {
    for (const provider of [new KindProvider({ env: {} }), new EmbeddedProvider({ env: {} })]) {
      const cluster: ClusterInfo = { name: 'c', provider: provider.name, kubeconfigPath: '/k', auditLogPath: '/a', dir: '/d' };
      expect(capabilitiesOf(cluster)).toEqual(provider.capabilities);
    }
    for (const name of PROVIDER_NAMES) expect(typeof providerCapabilities(name).realContainers).toBe('boolean');
  });
});
