/**
 * Egress judged by what a workload needs: may a pod with these labels open a connection to this
 * destination on this port, under NetworkPolicy semantics (networking.k8s.io/v1)? Policies add
 * up: a pod selected by any Egress policy is isolated for egress and may reach exactly the union
 * of what the egress rules of every policy selecting it allow. The embedded cluster enforces
 * nothing, so the eradication check asks this of a conforming CNI's rules.
 */
import { policyTypes, selects, type NetworkPolicy, type PolicyPeer, type PolicyPort } from './network-policy.ts';

export interface Destination {
  ip: string;
  /** Set for a pod in the cluster: its namespace, the namespace's labels and the pod's labels. */
  pod?: { namespace: string; namespaceLabels: Record<string, string>; labels: Record<string, string> };
}

function ipv4(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** Is `ip` inside `cidr`? IPv4 only: an IPv6 block never matches an IPv4 address. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const address = ipv4(ip);
  const network = ipv4(base);
  const bits = Number(bitsText);
  if (address === undefined || network === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((address & mask) >>> 0) === ((network & mask) >>> 0);
}

function peerMatches(peer: PolicyPeer, policyNamespace: string, destination: Destination): boolean {
  if (peer.ipBlock) {
    // Pod IPs may match an ipBlock too (implementation-defined): counted as reachable, the safe reading.
    return inCidr(destination.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(destination.ip, c));
  }
  const pod = destination.pod;
  if (!pod) return false;
  const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, pod.namespaceLabels) : pod.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector, pod.labels);
}

function portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (!ports?.length) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP').toUpperCase() !== protocol) return false;
    if (p.port === undefined) return true;
    // A named port matches only a container port of that name; the probes use numbers, so it never does.
    if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) return false;
    const first = Number(p.port);
    return p.endPort ? port >= first && port <= p.endPort : port === first;
  });
}

/** May a pod with `labels` in `namespace` open `protocol port` to `destination`? */
export function egressAllows(
  source: { namespace: string; labels: Record<string, string> },
  policies: NetworkPolicy[],
  destination: Destination,
  port: number,
  protocol: 'TCP' | 'UDP',
): boolean {
  const egress = policies.filter((p) => (p.metadata.namespace ?? source.namespace) === source.namespace && selects(p.spec.podSelector, source.labels) && policyTypes(p).includes('Egress'));
  if (egress.length === 0) return true;
  return egress.some((policy) =>
    (policy.spec.egress ?? []).some((rule) =>
      portMatches(rule.ports, port, protocol) && (!rule.to?.length || rule.to.some((peer) => peerMatches(peer, source.namespace, destination)))));
}
