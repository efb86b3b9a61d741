// Callers ask what a cluster can do, not which engine made it: each provider declares its
// capabilities, and a cluster's are its provider's.
import { describe, expect, it } from 'vitest';
import { EmbeddedProvider } from './embedded-provider.ts';
import { KindProvider } from './kind-provider.ts';
import { capabilitiesOf, learnerAccessOf, learnerKubeconfig, PROVIDER_NAMES, providerCapabilities, type ClusterInfo, type ClusterProvider } from './types.ts';

describe('cluster capabilities', () => {
  it('kind runs pods as real containers on a node; the embedded engine simulates them', () => {
    expect(new KindProvider({ env: {} }).capabilities).toEqual({ realContainers: true, learnerCredential: true });
    expect(new EmbeddedProvider({ env: {} }).capabilities).toEqual({ realContainers: false, learnerCredential: false });
  });

  it('a provider declares learnerCredential exactly when it has learnerAccess, and callers get the method through the declaration', () => {
    for (const provider of [new KindProvider({ env: {} }), new EmbeddedProvider({ env: {} })]) {
      const method = (provider as ClusterProvider).learnerAccess;
      expect(provider.capabilities.learnerCredential, provider.name).toBe(typeof method === 'function');
      expect(typeof learnerAccessOf(provider), provider.name).toBe(provider.capabilities.learnerCredential ? 'function' : 'undefined');
    }
  });

  it('refuses a provider whose declaration and method disagree', () => {
    const access = async () => '/learner.kubeconfig.yaml';
    expect(() => learnerAccessOf({ name: 'kind', capabilities: { realContainers: true, learnerCredential: false }, learnerAccess: access })).toThrow(/declares learnerCredential: false but has learnerAccess/);
    expect(() => learnerAccessOf({ name: 'kind', capabilities: { realContainers: true, learnerCredential: true } })).toThrow(/declares learnerCredential: true but has no learnerAccess/);
  });

  it('a learner never gets the admin kubeconfig where the provider declares a learner credential', () => {
    const cluster: ClusterInfo = { name: 'c', provider: 'kind', kubeconfigPath: '/admin', auditLogPath: '/a', dir: '/d' };
    expect(() => learnerKubeconfig(cluster, new KindProvider({ env: {} }))).toThrow(/never gets its admin credential/);
    expect(learnerKubeconfig({ ...cluster, learnerKubeconfigPath: '/learner' }, new KindProvider({ env: {} }))).toBe('/learner');
    expect(learnerKubeconfig({ ...cluster, provider: 'embedded' }, new EmbeddedProvider({ env: {} }))).toBe('/admin');
  });

  it('a cluster can do what its provider declares', () => {
    for (const provider of [new KindProvider({ env: {} }), new EmbeddedProvider({ env: {} })]) {
      const cluster: ClusterInfo = { name: 'c', provider: provider.name, kubeconfigPath: '/k', auditLogPath: '/a', dir: '/d' };
      expect(capabilitiesOf(cluster)).toEqual(provider.capabilities);
    }
    for (const name of PROVIDER_NAMES) {
      expect(typeof providerCapabilities(name).realContainers).toBe('boolean');
      expect(typeof providerCapabilities(name).learnerCredential).toBe('boolean');
    }
  });
});
