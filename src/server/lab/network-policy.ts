/**
 * NetworkPolicy semantics (networking.k8s.io/v1), evaluated without a dataplane: which policies
 * select a pod, whether it is isolated for ingress and egress, and which peers and ports each
 * direction still admits. The embedded engine enforces nothing, so the quarantine check reasons
 * about what a conforming CNI would do and explains each policy in words.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: { podSelector?: LabelSelector; policyTypes?: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[] };
}

/** Does the selector match these labels? An empty selector matches everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    if (expression.operator === 'In' && !(has && values.includes(value!))) return false;
    if (expression.operator === 'NotIn' && has && values.includes(value!)) return false;
    if (expression.operator === 'Exists' && !has) return false;
    if (expression.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** The policy types a policy applies, with the API server's default when policyTypes is unset. */
export function policyTypes(policy: NetworkPolicy): Array<'Ingress' | 'Egress'> {
  if (policy.spec.policyTypes?.length) return policy.spec.policyTypes.filter((t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress');
  return policy.spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

function describePeer(peer: PolicyPeer): string {
  if (peer.ipBlock) return `addresses in ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(', ')}` : ''}`;
  const pods = peer.podSelector ? describeSelector(peer.podSelector, 'pods') : undefined;
  const namespaces = peer.namespaceSelector ? describeSelector(peer.namespaceSelector, 'namespaces') : undefined;
  if (pods && namespaces) return `${pods} in ${namespaces}`;
  return namespaces ?? (pods ? `${pods} in the same namespace` : 'anything');
}

function describeSelector(selector: LabelSelector, noun: string): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(', ')})` : ''}`),
  ];
  return parts.length ? `${noun} with ${parts.join(', ')}` : `all ${noun}`;
}

function describePorts(ports: PolicyPort[] | undefined): string {
  if (!ports?.length) return 'on every port';
  return `on ${ports.map((p) => `${p.protocol ?? 'TCP'} ${p.port ?? 'any'}${p.endPort ? `-${p.endPort}` : ''}`).join(', ')}`;
}

/** One allowance in words, e.g. "egress to all namespaces on UDP 53 (policy allow-dns)". */
export function describeRule(direction: 'ingress' | 'egress', rule: PolicyRule, policy: string): string {
  const peers = direction === 'ingress' ? rule.from : rule.to;
  const who = peers?.length ? peers.map(describePeer).join(' or ') : 'anything';
  return `${direction} ${direction === 'ingress' ? 'from' : 'to'} ${who} ${describePorts(rule.ports)} (policy ${policy})`;
}

export interface Isolation {
  /** Policies whose podSelector matches the pod. */
  selecting: string[];
  /** Policies in the namespace that do not select the pod, with the reason, for feedback. */
  notSelecting: Array<{ name: string; why: string }>;
  ingressIsolated: boolean;
  egressIsolated: boolean;
  /** What still gets through, in words; empty when the pod is cut off in both directions. */
  allowed: string[];
}

export function isolationOf(pod: { labels: Record<string, string> }, policies: NetworkPolicy[]): Isolation {
  const selecting = policies.filter((p) => selects(p.spec.podSelector, pod.labels));
  const notSelecting = policies
    .filter((p) => !selecting.includes(p))
    .map((p) => ({ name: p.metadata.name, why: `it selects ${describeSelector(p.spec.podSelector ?? {}, 'pods')}, and the pod's labels do not match` }));
  const ingressPolicies = selecting.filter((p) => policyTypes(p).includes('Ingress'));
  const egressPolicies = selecting.filter((p) => policyTypes(p).includes('Egress'));
  const allowed = [
    ...(ingressPolicies.length === 0 ? ['all ingress: no policy selecting the pod isolates ingress'] : []),
    ...(egressPolicies.length === 0 ? ['all egress: no policy selecting the pod isolates egress'] : []),
    ...ingressPolicies.flatMap((p) => (p.spec.ingress ?? []).map((rule) => describeRule('ingress', rule, p.metadata.name))),
    ...egressPolicies.flatMap((p) => (p.spec.egress ?? []).map((rule) => describeRule('egress', rule, p.metadata.name))),
  ];
  return {
    selecting: selecting.map((p) => p.metadata.name),
    notSelecting,
    ingressIsolated: ingressPolicies.length > 0,
    egressIsolated: egressPolicies.length > 0,
    allowed,
  };
}
