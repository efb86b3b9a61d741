// The drill responders' role, binding and guard policy on a REAL API server, made the way the
// drill runtime makes them: several participants opening terminals at once, and again after a
// restart of irlab (a resumed drill finds them already there). Seen in the drill e2e: two
// participants at once, and the second creation's replace was refused with 422, because an
// admission policy cannot be updated without its resourceVersion. Fails on the old upsert.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { ensureResponderRbac, RESPONDER_GROUP } from '../../src/server/drill/responders.ts';

let work: string;
let provider: EmbeddedProvider;
let cluster: ClusterInfo;
const name = `rbac-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-rbac-it-'));
  provider = new EmbeddedProvider({ workDir: path.join(work, 'clusters') });
  const available = await provider.available();
  if (!available.ok) throw new Error(`embedded provider unavailable: ${available.problems.join('; ')}`);
  cluster = await provider.create({ name, nodes: 0, timeoutMs: 180_000 });
}, 240_000);

afterAll(async () => {
  await provider?.delete(name).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}, 60_000);

describe('the drill responders RBAC', () => {
  it('is made once, and made again over what is already there (a resumed drill)', async () => {
    const admin = loadKubeConfig(cluster.kubeconfigPath);
    await ensureResponderRbac(admin);
    await ensureResponderRbac(admin);
    const binding = await admin.makeApiClient(RbacAuthorizationV1Api).readClusterRoleBinding({ name: RESPONDER_GROUP });
    expect(binding.subjects?.map((s) => s.name)).toEqual([RESPONDER_GROUP]);
    const policies = await admin.makeApiClient(AdmissionregistrationV1Api).listValidatingAdmissionPolicy();
    expect(policies.items.filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'irlab')).toHaveLength(1);
  }, 60_000);

  it('survives several runtimes making it at once', async () => {
    const admin = () => loadKubeConfig(cluster.kubeconfigPath);
    await Promise.all([ensureResponderRbac(admin()), ensureResponderRbac(admin()), ensureResponderRbac(admin())]);
  }, 60_000);
});
