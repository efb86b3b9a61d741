// deploy/kubernetes as kubectl's own kustomize renders it (the engine's pinned kubectl, no
// cluster): fronts and cells as issue 21 shapes them, the components patching the cell
// StatefulSet, every front's and cell's environment a configuration the server accepts, and the
// init container that refuses base/secret.yaml's published placeholders. A real cluster runs
// them in tests/kind-clusters/deploy-on-kind.test.ts.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { loadConfig } from '../../src/server/app/config.ts';
import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const kubectl = join(binDir(readEngineVersions()), 'kubectl');

interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }
interface Container { name: string; image: string; env?: EnvVar[]; args?: string[]; command?: string[]; securityContext?: Record<string, unknown>; resources?: unknown; readinessProbe?: { httpGet?: { path: string } }; livenessProbe?: { httpGet?: { path: string } }; startupProbe?: { httpGet?: { path: string } } }
interface PodSpec { containers: Container[]; initContainers?: Container[]; securityContext?: Record<string, unknown>; hostUsers?: boolean; volumes?: Array<{ name: string; emptyDir?: unknown; persistentVolumeClaim?: unknown }>; terminationGracePeriodSeconds?: number }
interface K8sObject { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; stringData?: Record<string, string> }

let scratch: string;

/** `kubectl kustomize` of deploy/kubernetes/base with these components, through an overlay in a temp dir. */
async function render(components: string[] = ['privileged-cell']): Promise<K8sObject[]> {
  const dir = await mkdtemp(join(scratch, 'overlay-'));
  const lines = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', `  - ${relative(dir, join(root, 'deploy/kubernetes/base'))}`];
  if (components.length) lines.push('components:', ...components.map((c) => `  - ${relative(dir, join(root, 'deploy/kubernetes/components', c))}`));
  await writeFile(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
  const { stdout } = await run(kubectl, ['kustomize', dir], { timeout: 60_000, maxBuffer: 16 << 20 });
  return parseAllDocuments(stdout).map((doc) => doc.toJS() as K8sObject);
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
};
const podOf = (workload: K8sObject) => (workload.spec as { template: { spec: PodSpec; metadata: { labels: Record<string, string> } } }).template;
const server = (workload: K8sObject) => podOf(workload).spec.containers.find((c) => c.name === 'irlab')!;

/** A container's environment as the kubelet gives it: Secrets' values, the downward API, `$(VAR)` expanded. */
function environment(container: Container, secrets: Map<string, Record<string, string>>, pod: { name: string; namespace: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, ref: string) => env[ref] ?? whole);
    else if (variable.valueFrom?.secretKeyRef) env[variable.name] = secrets.get(variable.valueFrom.secretKeyRef.name)![variable.valueFrom.secretKeyRef.key]!;
    else if (variable.valueFrom?.fieldRef) env[variable.name] = variable.valueFrom.fieldRef.fieldPath === 'metadata.name' ? pod.name : pod.namespace;
  }
  return env;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'irlab-manifests-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('deploy/kubernetes', () => {
  it('renders as shipped (the top kustomization) and with components/sandbox', async () => {
    await expect(run(kubectl, ['kustomize', join(root, 'deploy/kubernetes')], { timeout: 60_000 })).resolves.toBeDefined();
    const sandboxed = podOf(find(await render(['sandbox']), 'StatefulSet', 'cell'));
    expect(sandboxed.spec.hostUsers).toBe(false);
    expect(server({ spec: { template: sandboxed } } as unknown as K8sObject).securityContext).toMatchObject({ procMount: 'Unmasked', allowPrivilegeEscalation: false });
  }, 120_000);

  it('runs stateless fronts behind the irlab Service and cells behind the headless irlab-cells', async () => {
    const objects = await render();
    const front = find(objects, 'Deployment', 'front');
    const cell = find(objects, 'StatefulSet', 'cell');
    expect(front.spec?.replicas).toBe(2);
    // Fronts: no claim, no privilege (the component patches cells only), probes on /api/health.
    const frontPod = podOf(front);
    expect(frontPod.spec.volumes?.every((v) => v.emptyDir !== undefined)).toBe(true);
    expect(frontPod.spec.securityContext).toMatchObject({ runAsUser: 10001, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(server(front).securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) expect(server(front)[probe]?.httpGet?.path).toBe('/api/health');
    expect(server(front).resources).toMatchObject({ requests: { cpu: expect.any(String), memory: expect.any(String) } });
    // Cells: their own volume, privileged through components/privileged-cell.
    expect((cell.spec?.volumeClaimTemplates as unknown[]).length).toBe(1);
    expect(server(cell).securityContext).toEqual({ privileged: true });
    expect(cell.spec?.serviceName).toBe('irlab-cells');

    const labels = (o: K8sObject) => podOf(o).metadata.labels;
    const selects = (selector: Record<string, string>, pod: Record<string, string>) => Object.entries(selector).every(([key, value]) => pod[key] === value);
    const service = find(objects, 'Service', 'irlab').spec as { selector: Record<string, string> };
    expect(selects(service.selector, labels(front))).toBe(true);
    expect(selects(service.selector, labels(cell))).toBe(false);
    const cells = find(objects, 'Service', 'irlab-cells').spec as { selector: Record<string, string>; clusterIP: string; publishNotReadyAddresses: boolean };
    expect(cells).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(selects(cells.selector, labels(cell))).toBe(true);
    expect(selects(cells.selector, labels(front))).toBe(false);
    // Disruption budgets for each, and cells reachable from fronts only.
    for (const [name, workload] of [['front', front], ['cell', cell]] as const) {
      const pdb = find(objects, 'PodDisruptionBudget', name).spec as { selector: { matchLabels: Record<string, string> } };
      expect(selects(pdb.selector.matchLabels, labels(workload))).toBe(true);
      expect(selects(pdb.selector.matchLabels, labels(workload === front ? cell : front))).toBe(false);
    }
    const policy = find(objects, 'NetworkPolicy', 'cell').spec as { podSelector: { matchLabels: Record<string, string> }; ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> };
    expect(selects(policy.podSelector.matchLabels, labels(cell))).toBe(true);
    expect(policy.ingress.flatMap((rule) => rule.from).map((peer) => selects(peer.podSelector.matchLabels, labels(front)))).toEqual([true]);
  }, 120_000);

  it("gives every front and cell a configuration the server accepts, the cell named after its pod and reached by its pod's DNS name", async () => {
    const objects = await render();
    const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, { ...o.stringData, 'forward-key': 'k'.repeat(48) }]));
    const frontEnv = environment(server(find(objects, 'Deployment', 'front')), secrets, { name: 'front-abc', namespace: 'irlab' });
    const cellEnv = environment(server(find(objects, 'StatefulSet', 'cell')), secrets, { name: 'cell-1', namespace: 'irlab' });
    expect(loadConfig(frontEnv, root).cells).toMatchObject({ role: 'front' });
    const cell = loadConfig(cellEnv, root).cells;
    expect(cell).toMatchObject({ role: 'cell', id: 'cell-1', url: 'http://cell-1.irlab-cells.irlab.svc:4321' });
    expect(cellEnv.IRLAB_CELL_FORWARD_KEY).toBe(frontEnv.IRLAB_CELL_FORWARD_KEY);
    // The grace covers the drain plus stopping the cell's clusters.
    const pod = podOf(find(objects, 'StatefulSet', 'cell')).spec;
    expect(pod.terminationGracePeriodSeconds).toBe(Number(cellEnv.IRLAB_CELL_DRAIN_SECONDS) + 120);
  }, 120_000);

  it("refuses to start a front or a cell with base/secret.yaml's placeholders, naming each one", async () => {
    const objects = await render();
    const shipped = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, o.stringData!]));
    for (const workload of [find(objects, 'Deployment', 'front'), find(objects, 'StatefulSet', 'cell')]) {
      const check = podOf(workload).spec.initContainers!.find((c) => c.name === 'secrets-changed')!;
      const script = [...check.command!.slice(1), ...check.args!];
      const refused = await run('/bin/sh', script, { env: { PATH: process.env.PATH, ...environment(check, shipped, { name: 'p', namespace: 'irlab' }) } }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(refused?.code, workload.metadata.name).toBe(1);
      for (const key of ['irlab-server/instructor-token', 'irlab-server/forward-key', 'irlab-database/url']) expect(refused?.stderr).toContain(key);
      const own = new Map<string, Record<string, string>>([
        ['irlab-server', { 'instructor-token': 'an-instructor-token-of-our-own-0123456789', 'forward-key': 'a-forward-key-of-our-own-0123456789abcdef' }],
        ['irlab-database', { password: 'ours', url: 'postgres://irlab:ours@postgres-0.postgres:5432/irlab' }],
      ]);
      await expect(run('/bin/sh', script, { env: { PATH: process.env.PATH, ...environment(check, own, { name: 'p', namespace: 'irlab' }) } })).resolves.toBeDefined();
    }
  }, 120_000);
});
