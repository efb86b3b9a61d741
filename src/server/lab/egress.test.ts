import { describe, expect, it } from 'vitest';
import { egressAllows, inCidr } from './egress.ts';
import type { NetworkPolicy } from './network-policy.ts';

const source = { namespace: 'production', labels: { app: 'web-app' } };
const db = { ip: '10.0.0.9', pod: { namespace: 'payments', namespaceLabels: { 'kubernetes.io/metadata.name': 'payments' }, labels: { app: 'payments-db' } } };
const ci = { ip: '10.0.0.7', pod: { namespace: 'ci', namespaceLabels: { 'kubernetes.io/metadata.name': 'ci' }, labels: { app: 'runner' } } };
const outside = { ip: '203.0.113.7' };
const policy = (name: string, egress: NetworkPolicy['spec']['egress'], podSelector = { matchLabels: { app: 'web-app' } }): NetworkPolicy =>
  ({ metadata: { name, namespace: 'production' }, spec: { podSelector, policyTypes: ['Egress'], ...(egress ? { egress } : {}) } });
const toDb = policy('db', [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } }, podSelector: { matchLabels: { app: 'payments-db' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);

describe('egress', () => {
  it('matches CIDRs', () => {
    expect(inCidr('203.0.113.7', '0.0.0.0/0')).toBe(true);
    expect(inCidr('203.0.113.7', '203.0.113.0/24')).toBe(true);
    expect(inCidr('203.0.114.7', '203.0.113.0/24')).toBe(false);
    expect(inCidr('10.0.0.1', '::/0')).toBe(false);
  });
  it('allows everything without an Egress policy, nothing with a deny-all', () => {
    expect(egressAllows(source, [], outside, 443, 'TCP')).toBe(true);
    expect(egressAllows(source, [policy('deny', undefined)], outside, 443, 'TCP')).toBe(false);
  });
  it('allows the database and nothing else with a targeted policy', () => {
    expect(egressAllows(source, [toDb], db, 5432, 'TCP')).toBe(true);
    expect(egressAllows(source, [toDb], db, 22, 'TCP')).toBe(false);
    expect(egressAllows(source, [toDb], ci, 5432, 'TCP')).toBe(false);
    expect(egressAllows(source, [toDb], outside, 5432, 'TCP')).toBe(false);
  });
  it('adds policies up: a second policy to 0.0.0.0/0 opens the pod to the internet and to pods', () => {
    const open = policy('anywhere', [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }]);
    expect(egressAllows(source, [toDb, open], outside, 443, 'TCP')).toBe(true);
    expect(egressAllows(source, [toDb, open], ci, 8080, 'TCP')).toBe(true);
    const except = policy('except', [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] } }] }]);
    expect(egressAllows(source, [except], outside, 443, 'TCP')).toBe(false);
  });
  it('reads namespace-less pod selectors as the policy\'s own namespace, and port ranges', () => {
    const same = policy('same', [{ to: [{ podSelector: {} }], ports: [{ port: 8000, endPort: 9000 }] }]);
    expect(egressAllows(source, [same], { ip: '10.0.0.2', pod: { namespace: 'production', namespaceLabels: {}, labels: {} } }, 8080, 'TCP')).toBe(true);
    expect(egressAllows(source, [same], ci, 8080, 'TCP')).toBe(false);
    expect(egressAllows(source, [same], { ip: '10.0.0.2', pod: { namespace: 'production', namespaceLabels: {}, labels: {} } }, 8080, 'UDP')).toBe(false);
  });
  it('ignores policies that do not select the pod', () => {
    expect(egressAllows(source, [policy('other', undefined, { matchLabels: { app: 'other' } })], outside, 443, 'TCP')).toBe(true);
  });
});
