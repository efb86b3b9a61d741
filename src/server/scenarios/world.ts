/**
 * Builds a scenario's world as the cluster admin (server-side apply, in dependency order) and
 * waits until it has settled: workloads running with pod IPs, legacy token secrets filled in.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { callApi, resourcePath, type Caller } from './kube-request.ts';

/** Apply order: what others refer to comes first. */
const ORDER = [
  'Namespace', 'Node', 'ServiceAccount', 'Secret', 'ConfigMap', 'ClusterRole', 'Role', 'ClusterRoleBinding',
  'RoleBinding', 'Service', 'NetworkPolicy', 'Deployment', 'DaemonSet', 'CronJob', 'Pod',
];

export const SEEDER_AGENT = 'irlab-scenario-seeder';

type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

export function admin(kubeConfig: KubeConfig): Caller {
  return { kubeConfig, userAgent: SEEDER_AGENT };
}

export async function applyWorld(kubeConfig: KubeConfig, world: Record<string, unknown>[]): Promise<number> {
  const manifests = (world as Manifest[]).toSorted((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  for (const manifest of manifests) {
    const { apiVersion, kind, metadata } = manifest;
    const response = await callApi(admin(kubeConfig), {
      method: 'PATCH',
      path: resourcePath(apiVersion, kind, metadata.namespace, metadata.name),
      query: [['fieldManager', SEEDER_AGENT], ['force', 'true']],
      contentType: 'application/apply-patch+yaml',
      body: manifest,
    });
    if (response.status >= 300) {
      const message = (response.body as { message?: string } | undefined)?.message ?? `HTTP ${response.status}`;
      throw new Error(`could not create ${kind} ${metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name}: ${message}`);
    }
  }
  return manifests.length;
}

export interface PodSummary {
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  serviceAccount: string;
  containers: string[];
  images: string[];
  labels: Record<string, string>;
}

interface PodObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { serviceAccountName?: string; containers: Array<{ name: string; image: string }> };
  status?: { phase?: string; podIP?: string };
}

export async function listRunningPods(kubeConfig: KubeConfig, namespace?: string): Promise<PodSummary[]> {
  const response = await callApi(admin(kubeConfig), { method: 'GET', path: resourcePath('v1', 'Pod', namespace) });
  const items = ((response.body as { items?: PodObject[] } | undefined)?.items ?? []).filter(
    (pod) => pod.status?.phase === 'Running' && pod.status.podIP && !pod.metadata.deletionTimestamp,
  );
  return items
    .map((pod) => ({
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      uid: pod.metadata.uid,
      ip: pod.status!.podIP!,
      serviceAccount: pod.spec.serviceAccountName ?? 'default',
      containers: pod.spec.containers.map((c) => c.name),
      images: pod.spec.containers.map((c) => c.image),
      labels: pod.metadata.labels ?? {},
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function matches(pod: PodSummary, namespace: string, selector: Record<string, string>): boolean {
  return pod.namespace === namespace && Object.entries(selector).every(([key, value]) => pod.labels[key] === value);
}

/** What still keeps the world from being settled, or an empty list. */
async function unsettled(kubeConfig: KubeConfig, world: Manifest[]): Promise<string[]> {
  const waiting: string[] = [];
  for (const manifest of world) {
    const { apiVersion, kind, metadata } = manifest;
    if (!['Deployment', 'DaemonSet', 'Secret'].includes(kind)) continue;
    if (kind === 'Secret' && manifest.type !== 'kubernetes.io/service-account-token') continue;
    const response = await callApi(admin(kubeConfig), { method: 'GET', path: resourcePath(apiVersion, kind, metadata.namespace, metadata.name) });
    const object = response.body as { spec?: { replicas?: number }; status?: Record<string, number>; data?: { token?: string } };
    const label = `${kind} ${metadata.namespace}/${metadata.name}`;
    if (kind === 'Deployment' && (object.status?.readyReplicas ?? 0) < (object.spec?.replicas ?? 1)) waiting.push(`${label} is not ready`);
    if (kind === 'DaemonSet' && (object.status?.numberReady ?? 0) < (object.status?.desiredNumberScheduled ?? 1)) waiting.push(`${label} is not ready`);
    if (kind === 'Secret' && !object.data?.token) waiting.push(`${label} has no token yet (kube-controller-manager fills it)`);
  }
  return waiting;
}

export async function waitForSettled(
  kubeConfig: KubeConfig,
  world: Record<string, unknown>[],
  { timeoutMs = 30_000, intervalMs = 150, now = Date.now, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)) } = {},
): Promise<void> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const waiting = await unsettled(kubeConfig, world as Manifest[]);
    if (waiting.length === 0) return;
    if (now() > deadline) {
      throw new Error(
        `the world did not settle within ${timeoutMs / 1000} s: ${waiting.join('; ')}. ` +
          'Check that the cluster has schedulable nodes and that kube-controller-manager and kube-scheduler run.',
      );
    }
    await sleep(intervalMs);
  }
}

/** Secrets that `username` may get, with a fingerprint of their data, as RBAC answers now. */
export async function reachableSecrets(kubeConfig: KubeConfig, username: string, groups: string[]) {
  const response = await callApi(admin(kubeConfig), { method: 'GET', path: resourcePath('v1', 'Secret') });
  const items = (response.body as { items?: Array<{ metadata: { name: string; namespace: string; uid: string }; data?: Record<string, string> }> } | undefined)?.items ?? [];
  const reachable = [];
  for (const secret of items) {
    const review = await callApi(admin(kubeConfig), {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: username, groups, resourceAttributes: { verb: 'get', resource: 'secrets', namespace: secret.metadata.namespace, name: secret.metadata.name } },
      },
    });
    if ((review.body as { status?: { allowed?: boolean } } | undefined)?.status?.allowed) {
      reachable.push({ namespace: secret.metadata.namespace, name: secret.metadata.name, uid: secret.metadata.uid, sha256: secretFingerprint(secret.data) });
    }
  }
  return reachable;
}

export function secretFingerprint(data: Record<string, string> | undefined): string {
  const sorted = Object.entries(data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}
