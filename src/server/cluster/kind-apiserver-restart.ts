// Restarting a kind node's kube-apiserver so that it re-reads its audit policy.
//
// The API server is a kubelet static pod. Stopping its container would make the kubelet restart
// it under CrashLoopBackOff (10 s, 20 s, 40 s... as a learner iterates on a policy). Moving the
// manifest out and back works but waits for the kubelet's next look at the directory (39 s
// measured). Changing the manifest instead (an annotation with a fresh value, written beside and
// renamed over, since the kubelet ignores dot files) changes the pod's hash: the kubelet replaces
// the pod at once, with no backoff. A policy the API server refuses shows as the new container
// exiting, so a rejection is known in seconds rather than at a readiness timeout. The old pod is
// given 3 s to stop rather than its 30 s grace period (it used all of it).

import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import { apiServerReady } from './kube.ts';
import { lastLines } from './kwokctl.ts';
import { waitUntil, type Clock, type Runner } from './runtime.ts';
import { ClusterError } from './types.ts';

const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const ANNOTATION = 'irlab.io/audit-policy-restart';

export interface ApiServerRestart {
  runner: Runner;
  clock: Clock;
  /** `docker` or `podman`, and the environment that reaches the engine. */
  engine: string;
  env: NodeJS.ProcessEnv;
  /** The node container, `<cluster>-control-plane`. */
  node: string;
  kubeConfig: KubeConfig;
  timeoutMs?: number;
}

interface CriContainer {
  id: string;
  state: string;
  createdAt: string;
}

/** Returns null once a new kube-apiserver is ready, else its last log lines (it refused to start). */
export async function restartKindApiServer(options: ApiServerRestart): Promise<string | null> {
  const { runner, engine, env, node } = options;
  const sh = async (script: string, timeoutMs = 30_000): Promise<string> => {
    const r = await runner.run(engine, ['exec', node, 'sh', '-c', script], { env, timeoutMs });
    if (r.code !== 0) throw new ClusterError(`${engine} exec ${node} failed (${r.code}): ${lastLines(r.stderr, 5)}`);
    return r.stdout;
  };
  const containers = async (): Promise<CriContainer[]> => {
    const out = await sh('crictl ps -a --name "^kube-apiserver$" -o json');
    const parsed = JSON.parse(out) as { containers?: CriContainer[] };
    return parsed.containers ?? [];
  };

  const before = new Set((await containers()).map((c) => c.id));
  const stamp = `${options.clock.now()}`;
  // Replace the annotation's line, or add it as the first annotation; then rename over the manifest.
  await sh(
    `set -e; m=${MANIFEST}; t=/etc/kubernetes/manifests/.kube-apiserver.irlab; ` +
      `if grep -q '${ANNOTATION}:' "$m"; then sed "s|^\\( *\\)${ANNOTATION}:.*|\\1${ANNOTATION}: \\"${stamp}\\"|" "$m" >"$t"; ` +
      `else sed "/^  annotations:/a\\\\    ${ANNOTATION}: \\"${stamp}\\"" "$m" >"$t"; fi; ` +
      `grep -q '${ANNOTATION}: "${stamp}"' "$t"; mv "$t" "$m"`,
  );

  // The kubelet stops the old pod with its 30 s grace period, and kube-apiserver used all of it
  // (32 s measured). Once the old one has begun shutting down (it stops being ready), it is
  // stopped here with a short grace instead; its audit log is written as requests complete.
  await waitUntil(async () => !(await apiServerReady(options.kubeConfig, 1_000).catch(() => false)), {
    timeoutMs: 30_000,
    intervalMs: 250,
    clock: options.clock,
    what: 'the kubelet to begin replacing kube-apiserver',
  });
  for (const id of before) await runner.run(engine, ['exec', node, 'crictl', 'stop', '--timeout', '3', id], { env, timeoutMs: 15_000 });

  let outcome: 'ready' | CriContainer | undefined;
  await waitUntil(
    async () => {
      const fresh = (await containers()).filter((c) => !before.has(c.id));
      const exited = fresh.find((c) => c.state === 'CONTAINER_EXITED');
      if (exited) outcome = exited;
      else if (fresh.some((c) => c.state === 'CONTAINER_RUNNING') && (await apiServerReady(options.kubeConfig, 2_000).catch(() => false))) outcome = 'ready';
      return outcome !== undefined;
    },
    { timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 500, clock: options.clock, what: 'a new kube-apiserver' },
  );
  if (outcome === 'ready') return null;
  const logs = await runner.run(engine, ['exec', node, 'crictl', 'logs', '--tail', '20', (outcome as CriContainer).id], { env, timeoutMs: 15_000 });
  return lastLines(`${logs.stdout}\n${logs.stderr}`, 10) || 'kube-apiserver exited without a message';
}

/**
 * After the API server came back, kube-router's informers reconnect only after their backoff:
 * measured 25–28 s in which a new NetworkPolicy was not enforced (a learner's quarantine applied
 * right after an audit-policy swap let connections through). Its pod is replaced instead: the new
 * controller lists everything and syncs at once (ready when its chains exist). Deleted with a 2 s
 * grace period: a rolling restart waited out its 30 s one (the swap took 77 s instead of 20 s).
 */
export async function resyncPolicyController(kubeConfig: KubeConfig, clock: Clock, timeoutMs = 90_000): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const namespace = 'kube-system';
  const labelSelector = 'k8s-app=kube-router';
  const old = (await core.listNamespacedPod({ namespace, labelSelector })).items.map((p) => p.metadata?.uid);
  if (!old.length) return; // Another CNI (kind's default image): nothing of ours to resync.
  await core.deleteCollectionNamespacedPod({ namespace, labelSelector, gracePeriodSeconds: 2 });
  await waitUntil(
    async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector })).items;
      const ds = await apps.readNamespacedDaemonSet({ name: 'kube-router', namespace }).catch(() => undefined);
      const fresh = pods.filter((p) => !old.includes(p.metadata?.uid) && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return fresh.length > 0 && fresh.length >= (ds?.status?.desiredNumberScheduled ?? 1);
    },
    { timeoutMs, clock, what: 'kube-router to restart after the API server did' },
  );
}
