// kind cluster configuration (kind.x-k8s.io/v1alpha4) with API server audit
// logging, following kind's auditing guide: the policy is mounted into the
// node with extraMounts, kubeadm mounts it into the kube-apiserver static pod
// with extraVolumes, and extraArgs turn auditing on. The node's
// /var/log/kubernetes is also mounted from the host so the audit log can be
// read without `docker exec`. Unlike the guide, the policy *directory* is
// mounted: a bind-mounted single file keeps pointing at the old inode once
// the host file is replaced, which would defeat setAuditPolicy.
//
// The kubeadm patch deliberately has no apiVersion: kind then accepts the
// map form of extraArgs and converts it for kubeadm v1beta4 (which uses a
// name/value list), as its guide shows.

import { stringify } from 'yaml';

import { boundaryApiServerArgs, KIND_ADMISSION_DIR } from './kind-boundary.ts';

export const KIND_POLICY_DIR = '/etc/kubernetes/policies';
export const KIND_POLICY_FILE = `${KIND_POLICY_DIR}/audit-policy.yaml`;
export const KIND_LOG_DIR = '/var/log/kubernetes';
export const KIND_AUDIT_LOG = `${KIND_LOG_DIR}/kube-apiserver-audit.log`;

export interface KindConfigInput {
  /** Host directory holding audit-policy.yaml. */
  policyHostDir: string;
  /** Host directory that receives the node's /var/log/kubernetes. */
  logHostDir: string;
  /** Host directory holding the learner boundary's files (kind-boundary.ts). */
  admissionHostDir: string;
  /** Node image, e.g. kindest/node:v1.37.2; kind's default when omitted. */
  nodeImage?: string;
}

export interface KindExtraMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface KindNode {
  role: 'control-plane' | 'worker';
  image?: string;
  kubeadmConfigPatches: string[];
  extraMounts: KindExtraMount[];
}

export interface KindCluster {
  kind: 'Cluster';
  apiVersion: 'kind.x-k8s.io/v1alpha4';
  networking: { apiServerAddress: string };
  nodes: KindNode[];
}

export function kindClusterConfig(input: KindConfigInput): KindCluster {
  const clusterConfiguration = {
    kind: 'ClusterConfiguration',
    apiServer: {
      extraArgs: {
        'audit-log-path': KIND_AUDIT_LOG,
        'audit-policy-file': KIND_POLICY_FILE,
        ...boundaryApiServerArgs(),
      },
      extraVolumes: [
        { name: 'audit-policies', hostPath: KIND_POLICY_DIR, mountPath: KIND_POLICY_DIR, readOnly: true, pathType: 'DirectoryOrCreate' },
        { name: 'audit-logs', hostPath: KIND_LOG_DIR, mountPath: KIND_LOG_DIR, readOnly: false, pathType: 'DirectoryOrCreate' },
        { name: 'irlab-admission', hostPath: KIND_ADMISSION_DIR, mountPath: KIND_ADMISSION_DIR, readOnly: true, pathType: 'Directory' },
      ],
    },
  };
  // The kubelet looks for static pod changes every 20 s by default; an audit policy swap is such a
  // change (kind-apiserver-restart.ts), and a learner waits for it: 1 s costs a stat a second.
  const kubeletConfiguration = { kind: 'KubeletConfiguration', fileCheckFrequency: '1s' };
  const node: KindNode = {
    role: 'control-plane',
    ...(input.nodeImage ? { image: input.nodeImage } : {}),
    kubeadmConfigPatches: [stringify(clusterConfiguration), stringify(kubeletConfiguration)],
    extraMounts: [
      { hostPath: input.policyHostDir, containerPath: KIND_POLICY_DIR, readOnly: true },
      { hostPath: input.logHostDir, containerPath: KIND_LOG_DIR, readOnly: false },
      // A directory, like the policy's: the static policies arrive after the cluster starts.
      { hostPath: input.admissionHostDir, containerPath: KIND_ADMISSION_DIR, readOnly: true },
    ],
  };
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    // Labs are local: keep the API server off other interfaces.
    networking: { apiServerAddress: '127.0.0.1' },
    nodes: [node],
  };
}

export function kindClusterConfigYaml(input: KindConfigInput): string {
  return stringify(kindClusterConfig(input));
}
