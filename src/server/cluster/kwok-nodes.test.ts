import { describe, expect, it } from 'vitest';

import { KWOK_NODE_ANNOTATION, kwokNode, kwokNodeNames } from './kwok-nodes.ts';

describe('kwok nodes', () => {
  it('are annotated for kwok-controller and schedulable like a linux worker', () => {
    const node = kwokNode('kwok-node-0', 0);
    expect(node.metadata?.annotations?.[KWOK_NODE_ANNOTATION]).toBe('fake');
    expect(node.metadata?.labels?.['kubernetes.io/os']).toBe('linux');
    expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe('kwok-node-0');
    expect(node.spec?.taints).toBeUndefined();
    expect(node.status?.allocatable).toEqual({ cpu: '32', memory: '256Gi', pods: '110' });
  });

  it('give each node its own pod CIDR and address', () => {
    const nodes = kwokNodeNames(3).map((name, i) => kwokNode(name, i));
    expect(nodes.map((n) => n.metadata?.name)).toEqual(['kwok-node-0', 'kwok-node-1', 'kwok-node-2']);
    expect(new Set(nodes.map((n) => n.spec?.podCIDR)).size).toBe(3);
    expect(new Set(nodes.map((n) => n.status?.addresses?.[0]?.address)).size).toBe(3);
  });
});
