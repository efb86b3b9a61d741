import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { boundaryApiServerArgs, KIND_ADMISSION_DIR } from './kind-boundary.ts';
import { KIND_AUDIT_LOG, KIND_LOG_DIR, KIND_POLICY_DIR, KIND_POLICY_FILE, kindClusterConfigYaml } from './kind-config.ts';

// kind decodes its config strictly, so an unknown or misspelt key fails
// `kind create cluster`. These field sets are kind's documented
// kind.x-k8s.io/v1alpha4 schema (Cluster, Node, Networking, Mount).
const CLUSTER_FIELDS = new Set([
  'kind', 'apiVersion', 'name', 'nodes', 'networking', 'featureGates', 'runtimeConfig',
  'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902', 'containerdConfigPatches', 'containerdConfigPatchesJSON6902',
]);
const NODE_FIELDS = new Set([
  'role', 'image', 'labels', 'extraMounts', 'extraPortMappings', 'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902',
]);
const NETWORKING_FIELDS = new Set([
  'ipFamily', 'apiServerPort', 'apiServerAddress', 'podSubnet', 'serviceSubnet', 'disableDefaultCNI', 'kubeProxyMode', 'dnsSearch',
]);
const MOUNT_FIELDS = new Set(['containerPath', 'hostPath', 'readOnly', 'selinuxRelabel', 'propagation']);
const NODE_ROLES = new Set(['control-plane', 'worker']);
// kubeadm's HostPathVolumeSource types (core/v1 HostPathType).
const HOST_PATH_TYPES = new Set(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']);
const EXTRA_VOLUME_FIELDS = new Set(['name', 'hostPath', 'mountPath', 'readOnly', 'pathType']);

type Obj = Record<string, unknown>;

function keysWithin(value: unknown, allowed: Set<string>, where: string): Obj {
  expect(value, where).toBeTypeOf('object');
  const obj = value as Obj;
  for (const key of Object.keys(obj)) expect(allowed.has(key), `${where}: unknown field ${key}`).toBe(true);
  return obj;
}

const input = { policyHostDir: '/cache/kind/lab-1/policies', logHostDir: '/cache/kind/lab-1/logs', admissionHostDir: '/cache/kind/lab-1/admission' };

describe('kind cluster config', () => {
  const config = keysWithin(parse(kindClusterConfigYaml(input)), CLUSTER_FIELDS, 'Cluster');

  it('is a kind.x-k8s.io/v1alpha4 Cluster with one control-plane node', () => {
    expect(config['kind']).toBe('Cluster');
    expect(config['apiVersion']).toBe('kind.x-k8s.io/v1alpha4');
    const nodes = config['nodes'] as unknown[];
    expect(nodes).toHaveLength(1);
    const node = keysWithin(nodes[0], NODE_FIELDS, 'nodes[0]');
    expect(NODE_ROLES.has(node['role'] as string)).toBe(true);
    expect(node['role']).toBe('control-plane');
  });

  it('keeps the API server on loopback', () => {
    const networking = keysWithin(config['networking'], NETWORKING_FIELDS, 'networking');
    expect(networking['apiServerAddress']).toBe('127.0.0.1');
  });

  const node = (config['nodes'] as Obj[])[0] as Obj;
  const mounts = (node['extraMounts'] as unknown[]).map((m, i) => keysWithin(m, MOUNT_FIELDS, `extraMounts[${i}]`));

  it('mounts the host policy dir read-only and the log dir writable into the node', () => {
    for (const m of mounts) {
      expect(typeof m['hostPath']).toBe('string');
      expect(typeof m['containerPath']).toBe('string');
      expect(typeof m['readOnly']).toBe('boolean');
    }
    expect(mounts).toContainEqual({ hostPath: input.policyHostDir, containerPath: KIND_POLICY_DIR, readOnly: true });
    expect(mounts).toContainEqual({ hostPath: input.logHostDir, containerPath: KIND_LOG_DIR, readOnly: false });
  });

  const patches = node['kubeadmConfigPatches'] as unknown[];
  const clusterConfiguration = parse(String(patches[0])) as Obj;
  const apiServer = clusterConfiguration['apiServer'] as Obj;

  it('patches kubeadm ClusterConfiguration with the audit flags, and the kubelet to see a changed static pod within a second', () => {
    expect(patches).toHaveLength(2);
    expect(parse(String(patches[1]))).toEqual({ kind: 'KubeletConfiguration', fileCheckFrequency: '1s' });
    expect(clusterConfiguration['kind']).toBe('ClusterConfiguration');
    // No apiVersion, so kind converts the map-form extraArgs for kubeadm v1beta4.
    expect(clusterConfiguration['apiVersion']).toBeUndefined();
    expect(apiServer['extraArgs']).toEqual({ 'audit-policy-file': KIND_POLICY_FILE, 'audit-log-path': KIND_AUDIT_LOG, ...boundaryApiServerArgs() });
  });

  it('mounts policy and log dirs into the kube-apiserver pod with valid extraVolumes', () => {
    const volumes = (apiServer['extraVolumes'] as unknown[]).map((v, i) => keysWithin(v, EXTRA_VOLUME_FIELDS, `extraVolumes[${i}]`));
    const names = volumes.map((v) => v['name']);
    expect(new Set(names).size).toBe(names.length);
    for (const v of volumes) {
      expect(String(v['name'])).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(HOST_PATH_TYPES.has(String(v['pathType']))).toBe(true);
      expect(typeof v['readOnly']).toBe('boolean');
    }
    const policy = volumes.find((v) => v['mountPath'] === KIND_POLICY_DIR);
    const logs = volumes.find((v) => v['mountPath'] === KIND_LOG_DIR);
    expect(policy).toMatchObject({ hostPath: KIND_POLICY_DIR, readOnly: true });
    expect(logs).toMatchObject({ hostPath: KIND_LOG_DIR, readOnly: false });
  });

  it('puts the flag paths inside volumes that come from the host', () => {
    const volumes = apiServer['extraVolumes'] as Obj[];
    const under = (file: string) => volumes.some((v) => file.startsWith(`${String(v['mountPath'])}/`));
    expect(under(KIND_POLICY_FILE)).toBe(true);
    expect(under(KIND_AUDIT_LOG)).toBe(true);
    for (const file of Object.values(boundaryApiServerArgs()).filter((v) => v.startsWith('/'))) expect(under(file), file).toBe(true);
    expect(mounts).toContainEqual({ hostPath: input.admissionHostDir, containerPath: KIND_ADMISSION_DIR, readOnly: true });
    // ...and those node paths are themselves mounted from the host.
    for (const v of volumes) expect(mounts.some((m) => m['containerPath'] === v['hostPath'])).toBe(true);
  });

  it('sets the node image only when asked', () => {
    expect(node['image']).toBeUndefined();
    const pinned = parse(kindClusterConfigYaml({ ...input, nodeImage: 'kindest/node:v1.37.2' })) as Obj;
    expect((pinned['nodes'] as Obj[])[0]?.['image']).toBe('kindest/node:v1.37.2');
  });
});
