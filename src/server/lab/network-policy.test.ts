import { describe, expect, it } from 'vitest';
import { isolationOf, selects, type NetworkPolicy } from './network-policy.ts';

const pod = { labels: { app: 'web-app', quarantine: 'true' } };
const denyAll: NetworkPolicy = {
  metadata: { name: 'quarantine' },
  spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Ingress', 'Egress'] },
};

describe('NetworkPolicy semantics', () => {
  it('isolates a pod completely with the lesson deny-all policy', () => {
    expect(isolationOf(pod, [denyAll])).toMatchObject({ selecting: ['quarantine'], ingressIsolated: true, egressIsolated: true, allowed: [] });
  });

  it('explains a policy that allows DNS egress to everything', () => {
    const dns: NetworkPolicy = {
      metadata: { name: 'quarantine' },
      spec: { ...denyAll.spec, egress: [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }] },
    };
    expect(isolationOf(pod, [dns]).allowed).toEqual(['egress to all namespaces on UDP 53 (policy quarantine)']);
  });

  it('defaults policyTypes the way the API server does', () => {
    const ingressOnly: NetworkPolicy = { metadata: { name: 'q' }, spec: { podSelector: { matchLabels: { quarantine: 'true' } } } };
    const result = isolationOf(pod, [ingressOnly]);
    expect(result).toMatchObject({ ingressIsolated: true, egressIsolated: false });
    expect(result.allowed).toEqual(['all egress: no policy selecting the pod isolates egress']);
  });

  it('says why a policy with another label does not apply', () => {
    const wrong: NetworkPolicy = { metadata: { name: 'quarantine' }, spec: { podSelector: { matchLabels: { quarantined: 'yes' } }, policyTypes: ['Ingress', 'Egress'] } };
    const result = isolationOf(pod, [wrong]);
    expect(result.selecting).toEqual([]);
    expect(result.notSelecting[0]?.why).toContain('pods with quarantined=yes');
  });

  it('unions the rules of every selecting policy', () => {
    const allowFrontend: NetworkPolicy = {
      metadata: { name: 'allow-frontend' },
      spec: { podSelector: { matchLabels: { app: 'web-app' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 8080 }] }] },
    };
    expect(isolationOf(pod, [denyAll, allowFrontend]).allowed).toEqual(['ingress from anything on TCP 8080 (policy allow-frontend)']);
  });

  it('matches expressions', () => {
    expect(selects({ matchExpressions: [{ key: 'quarantine', operator: 'Exists' }] }, pod.labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web-app'] }] }, pod.labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['x'] }] }, pod.labels)).toBe(false);
    expect(selects({}, {})).toBe(true);
  });
});
