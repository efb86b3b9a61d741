// A server whose labs run on kind (IRLAB_LAB_ENGINE=kind), driven as a learner drives it: Start
// seeds L18 into a real kind cluster, and the learner's browser shell on it holds the learner's
// own certificate, never the cluster's admin (whose privileged pods reach this machine): kubectl
// there is `learner`, reads the incident, and is refused a privileged pod. Stopping the server
// deletes the cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LabView } from '../../src/lib/lab-view.ts';
import { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { learnerShell, type LearnerShell } from '../integration/fixtures/learner-shell.ts';
import { engineChecked, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

let server: RealServer;
let shell: LearnerShell;
let cluster = '';

beforeAll(async () => {
  server = await startRealServer({ IRLAB_LAB_ENGINE: 'kind', IRLAB_SCENARIO_TIME_SCALE: '0.02', IRLAB_SCENARIO_WAITING_TIME_SCALE: '0.02' });
  await engineChecked(server);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  if (cluster) await new KindProvider().delete(cluster).catch(() => undefined);
}, 180_000);

describe('a lab on kind, as a learner', () => {
  it('starts L18 on a kind cluster, shown as the kind engine', async () => {
    const response = await fetch(`${server.base}/api/labs/l18/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.base },
      body: '{}',
      signal: AbortSignal.timeout(600_000),
    });
    const view = (await response.json()) as LabView & { error?: string };
    expect(response.status, `${view.error}\n${server.output.slice(-30).join('\n')}`).toBe(200);
    expect(view.engine).toMatchObject({ engine: 'kind', badge: 'kind engine' });
    expect(view.engine.unavailable).toBeUndefined();
    cluster = view.run!.cluster;
    expect((await new KindProvider().list()).map((c) => c.name)).toContain(cluster);
    shell = learnerShell(server, response.headers.get('set-cookie')!.split(';')[0]!);
  }, 600_000);

  it('gives the learner\'s shell their own credential: the incident is readable, the node is not', async () => {
    expect((await shell.run('kubectl auth whoami -o jsonpath="{.status.userInfo.username}"; echo')).trim()).toBe('learner');
    expect(await shell.run('kubectl get pods -n production -o name')).toMatch(/^pod\//m);
    const refused = await shell.run(`kubectl run escape -n production --image=busybox --restart=Never --overrides='{"spec":{"hostPID":true}}' 2>&1`);
    expect(refused).toContain("irlab: a learner's pods stay off the node: no hostPID");
    // Nothing in the shell's files holds the admin's certificate.
    expect(await shell.run('grep -l "kubernetes-admin" ~/.kube/config $KUBECONFIG 2>/dev/null | wc -l')).toMatch(/^0$/m);
  }, 180_000);

  it('collects from the node for the learner, into their workspace, with no shell on the node', async () => {
    const post = (body: unknown) =>
      fetch(`${server.base}/api/labs/l18/node-evidence`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.base, cookie: shell.cookie }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    const collected = await post({ collection: 'containers', args: [] });
    const view = (await collected.json()) as { file?: string; exitCode?: number; error?: string };
    expect(collected.status, `${view.error}\n${server.output.slice(-20).join('\n')}`).toBe(200);
    expect(view).toMatchObject({ file: 'node-evidence/crictl-ps.json', exitCode: 0 });
    // The learner's shell reads it: the node's own runtime, the compromised pod among its containers.
    expect(await shell.run('grep -c io.kubernetes.pod.name ~/node-evidence/crictl-ps.json')).toMatch(/^[1-9]\d*$/m);
    // Outside the allow-list, or a path: refused with the reason, never a 5xx.
    for (const body of [{ collection: 'shell', args: [] }, { collection: 'files', args: ['../../etc'] }, { collection: 'container', args: ['$(id)'] }]) {
      const refused = await post(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
  }, 120_000);

  it('deletes the lab\'s kind cluster when the server stops', async () => {
    await server.stop();
    expect((await new KindProvider().list()).map((c) => c.name)).not.toContain(cluster);
    cluster = '';
  }, 180_000);
});
