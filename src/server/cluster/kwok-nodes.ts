// Worker nodes for embedded clusters. There is no kubelet: kwok-controller
// takes over Node objects annotated `kwok.x-k8s.io/node: fake`, keeps them
// Ready (leases, heartbeats) and plays the pod lifecycle on them, so the real
// scheduler and controllers see an ordinary cluster where Deployments become
// available. Each node gets its own pod CIDR so pod IPs do not collide.

import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';

export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export function kwokNode(name: string, index: number): V1Node {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: { podCIDR: `10.0.${index}.0/24`, podCIDRs: [`10.0.${index}.0/24`] },
    status: {
      // 192.0.2.0/24 is TEST-NET-1: never a real host, so lab evidence cannot point at one.
      addresses: [{ type: 'InternalIP', address: `192.0.2.${index + 10}` }],
      allocatable: resources,
      capacity: resources,
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        bootID: '',
        containerRuntimeVersion: 'kwok',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: 'kwok',
        machineID: '',
        osImage: '',
        systemUUID: '',
      },
    },
  };
}

export function kwokNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
}

export async function addKwokNodes(kc: KubeConfig, count: number): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const names = kwokNodeNames(count);
  for (const [i, name] of names.entries()) await core.createNode({ body: kwokNode(name, i) });
  return names;
}

/** True once every named node reports Ready=True (set by kwok-controller). */
export async function nodesReady(kc: KubeConfig, names: readonly string[]): Promise<boolean> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNode();
  const ready = new Set(
    list.items
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata?.name),
  );
  return names.every((n) => ready.has(n));
}
