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
 * API groups a lab never touches. Turning them off removes their storage,
 * watch caches and controllers' informers from kube-apiserver's heap.
 */
export const DISABLED_API_GROUPS = [
  'autoscaling/v1',
  'autoscaling/v2',
  'batch/v1',
  'certificates.k8s.io/v1',
  'coordination.k8s.io/v1beta1',
  'discovery.k8s.io/v1',
  'flowcontrol.apiserver.k8s.io/v1',
  'internal.apiserver.k8s.io/v1alpha1',
  'node.k8s.io/v1',
  'policy/v1',
  'resource.k8s.io/v1',
  'scheduling.k8s.io/v1',
  'storage.k8s.io/v1',
  'storagemigration.k8s.io/v1alpha1',
  'admissionregistration.k8s.io/v1',
];

/** Go runtime settings for every component: collect early, stay under a soft cap. */
function goEnv(memLimit: string): Array<{ name: string; value: string }> {
  return [
    { name: 'GOGC', value: '50' },
    { name: 'GOMEMLIMIT', value: memLimit },
  ];
}

export function componentPatches(): ComponentPatch[] {
  return [
    {
      name: 'kube-controller-manager',
      extraArgs: [
        // Each controller acts as its own ServiceAccount, so the audit log says
        // system:serviceaccount:kube-system:replicaset-controller, as on a real
        // cluster, instead of the admin certificate for everything.
        { key: 'use-service-account-credentials', value: 'true' },
      ],
      extraEnvs: goEnv('60MiB'),
    },
    { name: 'kube-scheduler', extraEnvs: goEnv('30MiB') },
    { name: 'kwok-controller', extraEnvs: goEnv('30MiB') },
    { name: 'etcd', extraEnvs: goEnv('40MiB') },
    { name: 'kube-apiserver', extraEnvs: goEnv('120MiB') },
  ];
}

export function kwokctlConfigYaml(ports: ClusterPorts): string {
  return stringify({
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokctlConfiguration',
    options: { ...portOptions(ports), enableCRDs: ['Exec', 'Logs'] },
    componentsPatches: componentPatches(),
  });
}
