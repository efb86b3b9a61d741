// The drill responders' role, binding and guard policy on a REAL API server, made the way the
// drill runtime makes them: several participants opening terminals at once, and again after a
// restart of irlab (a resumed drill finds them already there). Seen in the drill e2e: two
// participants at once, and the second creation's replace was refused with 422, because an
// admission policy cannot be updated without its resourceVersion. Fails on the old upsert.
import { AdmissionregistrationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { ensureResponderRbac, RESPONDER_GROUP } from '../../src/server/drill/responders.ts';
import { useEmbeddedCluster } from './fixtures/embedded-cluster.ts';

const real = useEmbeddedCluster('rbac');

describe('the drill responders RBAC', () => {
  it('is made once, and made again over what is already there (a resumed drill)', async () => {
    const admin = loadKubeConfig(real.cluster.kubeconfigPath);
    await ensureResponderRbac(admin);
    await ensureResponderRbac(admin);
    const binding = await admin.makeApiClient(RbacAuthorizationV1Api).readClusterRoleBinding({ name: RESPONDER_GROUP });
    expect(binding.subjects?.map((s) => s.name)).toEqual([RESPONDER_GROUP]);
    const policies = await admin.makeApiClient(AdmissionregistrationV1Api).listValidatingAdmissionPolicy();
    expect(policies.items.filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'irlab')).toHaveLength(1);
  }, 60_000);

  it('survives several runtimes making it at once', async () => {
    const admin = () => loadKubeConfig(real.cluster.kubeconfigPath);
    await Promise.all([ensureResponderRbac(admin()), ensureResponderRbac(admin()), ensureResponderRbac(admin())]);
  }, 60_000);
});
