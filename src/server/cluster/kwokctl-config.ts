// The KwokctlConfiguration every embedded cluster is created with: loopback
// ports (ports.ts), kwok's Exec and Logs CRDs (the pod runtime creates one of
// each per pod), and component flags that make audit logs realistic and an
// idle cluster small. The figures behind the tuning are in docs/engine.md.

import { stringify } from 'yaml';

import { portOptions, type ClusterPorts } from './ports.ts';

interface ComponentPatch {
  name: string;
  extraArgs?: Array<{ key: string; value: string }>;
  extraEnvs?: Array<{ name: string; value: string }>;
}

/**
 * `lean` (the default) trims an idle cluster's memory; `none` is kwokctl's
 * stock configuration, kept for before/after measurements
 * (`IRLAB_ENGINE_TUNING=none npm run bench:engine`).
 */
export type EngineTuning = 'lean' | 'none';

export function engineTuning(env: NodeJS.ProcessEnv = process.env): EngineTuning {
  return env['IRLAB_ENGINE_TUNING'] === 'none' ? 'none' : 'lean';
}

/**
 * API groups a lab never touches. Turning them off removes their storage,
 * watch caches and informers. Groups the scheduler, the controllers or
 * admission read (storage, policy, scheduling, resource, node, certificates,
 * admissionregistration)
 * stay on: without them kube-scheduler would wait forever for its caches.
 */
export const DISABLED_API_GROUPS = ['autoscaling/v1', 'autoscaling/v2', 'flowcontrol.apiserver.k8s.io/v1', 'storagemigration.k8s.io/v1'];

/** Controllers with nothing to do on a lab cluster (no volumes, CSRs, autoscaling or cloud). */
export const DISABLED_CONTROLLERS = [
  'certificatesigningrequest-approving-controller',
  'certificatesigningrequest-cleaner-controller',
  'certificatesigningrequest-signing-controller',
  'device-taint-eviction-controller',
  'ephemeral-volume-controller',
  'horizontal-pod-autoscaler-controller',
  'kube-apiserver-serving-clustertrustbundle-publisher-controller',
  'node-ipam-controller',
  'persistentvolume-attach-detach-controller',
  'persistentvolume-binder-controller',
  'persistentvolume-expander-controller',
  'persistentvolume-protection-controller',
  'persistentvolumeclaim-protection-controller',
  'podcertificaterequest-cleaner-controller',
  'resourceclaim-controller',
  'resourcepoolstatusrequest-controller',
  'service-cidr-controller',
  'storage-version-migrator-controller',
  'storageversion-garbage-collector-controller',
  'volumeattributesclass-protection-controller',
];

/**
 * Go runtime settings. GOGC below 100 collects earlier, trading a little CPU
 * for a smaller heap. No GOMEMLIMIT: set below a component's live heap (100MiB
 * for kube-apiserver, whose live heap is about 115 MiB) it made the GC run
 * without pause, 36 % of a core on an idle cluster (docs/engine.md).
 */
function goEnv(gogc: number): Array<{ name: string; value: string }> {
  return [{ name: 'GOGC', value: String(gogc) }];
}

const arg = (key: string, value: string) => ({ key, value });

export function componentPatches(tuning: EngineTuning): ComponentPatch[] {
  // Each controller acts as its own ServiceAccount, so the audit log says
  // system:serviceaccount:kube-system:replicaset-controller, as on a real
  // cluster, instead of the admin certificate for everything.
  const realisticAudit = arg('use-service-account-credentials', 'true');
  // One instance of each: no leader to elect. With election on, a controller exits for good when
  // it cannot renew its lease while the API server restarts (an audit-policy swap on a busy
  // machine takes longer than the 10 s renew deadline), and Deployments stop rolling out.
  const noElection = arg('leader-elect', 'false');
  if (tuning === 'none') {
    return [
      { name: 'kube-controller-manager', extraArgs: [realisticAudit, noElection] },
      { name: 'kube-scheduler', extraArgs: [noElection] },
    ];
  }
  return [
    {
      name: 'kube-apiserver',
      extraArgs: [
        arg('runtime-config', DISABLED_API_GROUPS.map((g) => `${g}=false`).join(',')),
        arg('enable-priority-and-fairness', 'false'),
        arg('watch-cache', 'false'),
        
        arg('profiling', 'false'),
      ],
      extraEnvs: goEnv(40),
    },
    {
      name: 'kube-controller-manager',
      extraArgs: [realisticAudit, noElection, arg('controllers', ['*', ...DISABLED_CONTROLLERS.map((c) => `-${c}`)].join(',')), arg('profiling', 'false')],
      extraEnvs: goEnv(50),
    },
    { name: 'kube-scheduler', extraArgs: [noElection, arg('profiling', 'false')], extraEnvs: goEnv(50) },
    { name: 'kwok-controller', extraEnvs: goEnv(50) },
    { name: 'etcd', extraArgs: [arg('snapshot-count', '2000')], extraEnvs: goEnv(50) },
  ];
}

export function kwokctlConfigYaml(ports: ClusterPorts, tuning: EngineTuning = engineTuning()): string {
  return stringify({
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokctlConfiguration',
    options: { ...portOptions(ports), enableCRDs: ['Exec', 'Logs'] },
    componentsPatches: componentPatches(tuning),
  });
}
