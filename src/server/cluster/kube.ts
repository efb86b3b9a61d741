// The only place cluster code reaches the API server from TypeScript; always
// through @kubernetes/client-node so TLS and credentials are handled the same
// way labs and graders do it.

import { ApiException, CoreV1Api, Health, KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** GET /readyz; false on a non-200 answer, throws when unreachable or slower than timeoutMs. */
export async function apiServerReady(kc: KubeConfig, timeoutMs = 3000): Promise<boolean> {
  return new Health(kc).readyz({ signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * True once kube-controller-manager's serviceaccount controller has made the
 * `default` ServiceAccount in `default`. With admission on, pods cannot be
 * created before that, so a lab cluster is not usable until it exists.
 */
export async function controllersReady(kc: KubeConfig): Promise<boolean> {
  try {
    await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    throw err;
  }
}
