// The drill responders' role, binding and guard policy on a REAL API server, made the way the
// drill runtime makes them: several participants opening terminals at once, and again after a
// restart of irlab (a resumed drill finds them already there). Seen in the drill e2e: two
// participants at once, and the second creation's replace was refused with 422, because an
// admission policy cannot be updated without its resourceVersion. Fails on the old upsert.
import { AdmissionregistrationV1Api, AuthorizationV1Api, RbacAuthorizationV1Api, type V1ResourceAttributes } from '@kubernetes/client-node';
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

  // The API server's own authorizer, asked about a responder: reads of what incident response
  // reads, but not nodes/proxy (the kubelet's API: exec into any container of the node) nor any
  // other proxy subresource. Fails on the old role, which read '*'/'*'.
  it('lets a responder read pods, logs and secrets, and not the kubelet through nodes/proxy', async () => {
    const admin = loadKubeConfig(real.cluster.kubeconfigPath);
    await ensureResponderRbac(admin);
    const authz = admin.makeApiClient(AuthorizationV1Api);
    const may = async (resourceAttributes: V1ResourceAttributes) =>
      (await authz.createSubjectAccessReview({ body: { spec: { user: 'drill:alice.p1', groups: [RESPONDER_GROUP, 'system:authenticated'], resourceAttributes } } })).status?.allowed ?? false;
    expect(await may({ verb: 'list', resource: 'pods' })).toBe(true);
    expect(await may({ verb: 'get', resource: 'pods', subresource: 'log', namespace: 'production', name: 'web' })).toBe(true);
    expect(await may({ verb: 'list', resource: 'secrets', namespace: 'production' })).toBe(true);
    expect(await may({ verb: 'watch', resource: 'events', group: 'events.k8s.io' })).toBe(true);
    for (const verb of ['get', 'create']) expect(await may({ verb, resource: 'nodes', subresource: 'proxy', name: 'node-1' })).toBe(false);
    expect(await may({ verb: 'get', resource: 'services', subresource: 'proxy', namespace: 'production', name: 'web' })).toBe(false);
    expect(await may({ verb: 'get', resource: 'pods', subresource: 'proxy', namespace: 'production', name: 'web' })).toBe(false);
  }, 60_000);

  it('survives several runtimes making it at once', async () => {
    const admin = () => loadKubeConfig(real.cluster.kubeconfigPath);
    await Promise.all([ensureResponderRbac(admin()), ensureResponderRbac(admin()), ensureResponderRbac(admin())]);
  }, 60_000);
});
