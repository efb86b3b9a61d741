// The pod runtime of an embedded cluster: what a kubelet's container runtime
// would provide, for kwok's simulated pods. It watches the cluster's pods and
// gives each new one (seeded, created by a learner or an attacker, recreated
// during eradication) its own tree (pod-tree.ts), an empty log file per
// container, and the kwok Exec and Logs objects that route `kubectl exec` and
// `kubectl logs` to them. The Exec names the pod in IRLAB_POD; the pod
// sandbox (engine/podsandbox) runs the command in that pod's tree only.
//
// One runtime per cluster, in the process that owns the cluster (the warm
// pool). Exec and Logs carry an ownerReference to their pod, so the garbage
// collector removes them with it; the runtime removes the tree.

import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';

import { loadKubeConfig } from './kube.ts';
import { mkdirInside, podOwner, podPaths, writeDefaultTree, BUSYBOX, type PodOwner } from './pod-tree.ts';
import type { ClusterInfo } from './types.ts';

const GROUP = 'kwok.x-k8s.io';
const VERSION = 'v1alpha1';

export interface PodRuntimeOptions {
  busybox?: string;
  /** Problems preparing one pod; the runtime keeps going. Default: console.error. */
  onError?: (error: Error) => void;
  /** Delay before re-watching after the watch broke (API server restart). */
  rewatchMs?: number;
}

/** The kwok objects for one pod: container env goes in as IRLAB_ENV_<NAME>. */
export function kwokObjectsFor(pod: V1Pod, logsDir: string) {
  const { name = '', namespace = '', uid = '' } = pod.metadata ?? {};
  const metadata = {
    name,
    namespace,
    labels: { 'app.kubernetes.io/managed-by': 'irlab-pod-runtime' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid, controller: false, blockOwnerDeletion: false }],
  };
  const containers = pod.spec?.containers ?? [];
  const execs = containers.map((c) => ({
    containers: [c.name],
    local: {
      envs: [
        { name: 'IRLAB_POD', value: `${namespace}/${name}` },
        ...(c.env ?? [])
          .filter((e) => e.value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name))
          .map((e) => ({ name: `IRLAB_ENV_${e.name}`, value: e.value ?? '' })),
      ],
    },
  }));
  const logs = containers.map((c) => ({ containers: [c.name], logsFile: join(logsDir, `${c.name}.log`), follow: true }));
  return {
    exec: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Exec', metadata, spec: { execs } },
    logs: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Logs', metadata, spec: { logs } },
  };
}

export class PodRuntime {
  readonly cluster: ClusterInfo;
  private readonly kc: KubeConfig;
  private readonly custom: CustomObjectsApi;
  private readonly options: PodRuntimeOptions;
  private informer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  private stopped = false;
  /** Pods prepared (by uid) → the promise of their preparation. */
  private readonly prepared = new Map<string, Promise<void>>();
  private rewatch: NodeJS.Timeout | undefined;
  /** Work on one pod name at a time: a recreated pod's tree must not race its predecessor's removal. */
  private readonly byName = new Map<string, Promise<unknown>>();

  private constructor(cluster: ClusterInfo, options: PodRuntimeOptions) {
    this.cluster = cluster;
    this.options = options;
    this.kc = loadKubeConfig(cluster.kubeconfigPath);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
  }

  /** Starts watching; resolves once the current pods are listed (and being prepared). */
  static async start(cluster: ClusterInfo, options: PodRuntimeOptions = {}): Promise<PodRuntime> {
    const runtime = new PodRuntime(cluster, options);
    await runtime.watch();
    return runtime;
  }

  private async watch(): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(this.kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    informer.on('add', (pod) => this.track(pod));
    informer.on('update', (pod) => this.track(pod));
    informer.on('delete', (pod) => void this.serial(pod, () => this.forget(pod)).catch(() => undefined));
    informer.on('error', () => {
      if (this.stopped) return;
      this.rewatch = setTimeout(() => void informer.start().catch(() => undefined), this.options.rewatchMs ?? 1_000);
    });
    this.informer = informer;
    await informer.start();
  }

  private track(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.stopped || this.prepared.has(uid) || pod.metadata?.deletionTimestamp) return;
    const work = this.serial(pod, () => this.prepare(pod)).catch((err: unknown) => {
      this.prepared.delete(uid);
      const error = new Error(`pod runtime ${this.cluster.name}: ${pod.metadata?.namespace}/${pod.metadata?.name}: ${(err as Error).message}`);
      (this.options.onError ?? ((e: Error) => console.error(e.message)))(error);
    });
    this.prepared.set(uid, work);
  }

  private serial<T>(pod: V1Pod, work: () => Promise<T>): Promise<T> {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const next = (this.byName.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.byName.set(key, next);
    void next.finally(() => this.byName.get(key) === next && this.byName.delete(key)).catch(() => undefined);
    return next;
  }

  private async prepare(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const uid = pod.metadata?.uid ?? '';
    const paths = podPaths(this.cluster.dir, namespace, name);
    const preparedFor = await readFile(paths.prepared, 'utf8').catch(() => undefined);
    if (preparedFor !== uid) {
      // A tree left by an earlier pod of the same name (recreated faster than its
      // delete was handled) is not this pod's: start from scratch.
      if (preparedFor !== undefined) await rm(dirname(paths.rootfs), { recursive: true, force: true });
      await writeDefaultTree(paths.rootfs, { name, namespace, ip: pod.status?.podIP }, this.options.busybox ?? BUSYBOX, this.owner());
      await writeFile(paths.prepared, uid);
    }
    const logsDir = await mkdirInside(this.cluster.dir, join('pod-logs', namespace, name));
    for (const c of pod.spec?.containers ?? []) await (await open(join(logsDir, `${c.name}.log`), 'a')).close();
    const { exec, logs } = kwokObjectsFor(pod, paths.logs);
    await this.createOrReplace('execs', exec);
    await this.createOrReplace('logs', logs);
  }

  /** The host uid of this cluster's pods (their root): it owns each tree. */
  private owner(): PodOwner {
    return podOwner(this.kc.getCurrentCluster()?.server ?? '');
  }

  private async createOrReplace(plural: string, body: { metadata: { name: string; namespace: string } }): Promise<void> {
    const ref = { group: GROUP, version: VERSION, plural, namespace: body.metadata.namespace };
    try {
      await this.custom.createNamespacedCustomObject({ ...ref, body });
    } catch (err) {
      // A pod recreated under the same name: the old object may still await garbage collection.
      if (!(err instanceof ApiException && err.code === 409)) throw err;
      await this.custom.deleteNamespacedCustomObject({ ...ref, name: body.metadata.name });
      await this.custom.createNamespacedCustomObject({ ...ref, body });
    }
  }

  private async forget(pod: V1Pod): Promise<void> {
    const { uid = '', name = '', namespace = '' } = pod.metadata ?? {};
    this.prepared.delete(uid);
    // Only this pod's own tree: a pod of the same name may already be back with its own.
    const preparedFor = await readFile(podPaths(this.cluster.dir, namespace, name).prepared, 'utf8').catch(() => undefined);
    if (this.stopped || (preparedFor !== undefined && preparedFor !== uid)) return;
    await rm(join(this.cluster.dir, 'pods', namespace, name), { recursive: true, force: true });
    await rm(join(this.cluster.dir, 'pod-logs', namespace, name), { recursive: true, force: true });
  }

  /** Resolves once the named pod has its tree, log files, Exec and Logs. */
  async ready(namespace: string, name: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pod = this.informer?.list(namespace).find((p) => p.metadata?.name === name);
      const work = pod?.metadata?.uid ? this.prepared.get(pod.metadata.uid) : undefined;
      if (work) {
        await work;
        if (pod?.metadata?.uid && this.prepared.has(pod.metadata.uid)) return;
      }
      if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} was not prepared within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rewatch) clearTimeout(this.rewatch);
    await this.informer?.stop();
    await Promise.all([...this.prepared.values()].map((p) => p.catch(() => undefined)));
  }
}
