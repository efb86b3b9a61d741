import { describe, expect, it } from 'vitest';
import { CANONICAL_REQUESTS, DEFAULT_IDENTITIES } from './canonical.ts';
import { predict } from './check.ts';
import { evaluatePolicy, pathMatches } from './evaluate.ts';
import { requestAttributes, type Identity } from './request-info.ts';
import type { AuditPolicy, PolicyRule } from './types.ts';
import { loadPolicy } from './validate.ts';

function policy(rules: string, top = 'omitStages: ["RequestReceived"]'): AuditPolicy {
  const loaded = loadPolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${top}\nrules:\n${rules}`);
  expect(loaded.errors).toEqual([]);
  return loaded.policy!;
}

const alice: Identity = { user: 'alice', groups: ['dev', 'system:authenticated'] };
const sa: Identity = { user: 'system:serviceaccount:prod:web', groups: ['system:serviceaccounts', 'system:serviceaccounts:prod', 'system:authenticated'] };

/** [level, rule] for an HTTP request. */
function decide(p: AuditPolicy, method: string, path: string, who: Identity = alice) {
  const d = evaluatePolicy(p, requestAttributes({ method, path }, who));
  return [d.level, d.rule];
}

describe('evaluatePolicy: first match wins', () => {
  it('takes the first matching rule and never looks further', () => {
    const p = policy('  - level: Metadata\n  - level: RequestResponse\n    resources: [{ group: "" }]\n');
    expect(decide(p, 'GET', '/api/v1/namespaces/prod/secrets/a')).toEqual(['Metadata', 0]);
  });

  it('gives None, rule null and the policy omitStages when nothing matches', () => {
    const p = policy('  - level: Request\n    verbs: ["create"]\n', 'omitStages: ["RequestReceived", "ResponseStarted"]');
    const d = evaluatePolicy(p, requestAttributes({ method: 'GET', path: '/api/v1/pods' }, alice));
    expect(d).toEqual({ level: 'None', rule: null, omitStages: ['RequestReceived', 'ResponseStarted'], omitManagedFields: false });
  });
});

describe('evaluatePolicy: who and what verb', () => {
  const p = policy(`  - level: None
    users: ["system:kube-proxy"]
  - level: RequestResponse
    userGroups: ["system:serviceaccounts:prod"]
    verbs: ["create", "patch"]
  - level: Request
    userGroups: ["dev", "ops"]
  - level: Metadata
`);
  it('matches users exactly', () => {
    expect(decide(p, 'GET', '/api/v1/pods', { user: 'system:kube-proxy', groups: [] })).toEqual(['None', 0]);
    expect(decide(p, 'GET', '/api/v1/pods', { user: 'system:kube-proxy2', groups: [] })).toEqual(['Metadata', 3]);
  });
  it('matches when any of the user groups is listed, and every field of the rule must match', () => {
    expect(decide(p, 'POST', '/api/v1/namespaces/prod/pods', sa)).toEqual(['RequestResponse', 1]);
    expect(decide(p, 'GET', '/api/v1/namespaces/prod/pods', sa)).toEqual(['Metadata', 3]);
    expect(decide(p, 'GET', '/api/v1/namespaces/prod/pods', alice)).toEqual(['Request', 2]);
  });
  it('matches verbs as the API server names them (list, watch, deletecollection)', () => {
    const v = policy('  - level: Request\n    verbs: ["list"]\n  - level: RequestResponse\n    verbs: ["deletecollection", "watch"]\n');
    expect(decide(v, 'GET', '/api/v1/pods')).toEqual(['Request', 0]);
    expect(decide(v, 'GET', '/api/v1/pods?watch=true')).toEqual(['RequestResponse', 1]);
    expect(decide(v, 'DELETE', '/api/v1/namespaces/a/pods')).toEqual(['RequestResponse', 1]);
    expect(decide(v, 'GET', '/api/v1/namespaces/a/pods/x')).toEqual(['None', null]);
  });
});

describe('evaluatePolicy: namespaces', () => {
  const p = policy('  - level: RequestResponse\n    namespaces: [""]\n  - level: Request\n    namespaces: ["prod"]\n  - level: Metadata\n');
  it('"" selects cluster-scoped requests and requests across all namespaces', () => {
    expect(decide(p, 'GET', '/api/v1/nodes')).toEqual(['RequestResponse', 0]);
    expect(decide(p, 'GET', '/api/v1/secrets')).toEqual(['RequestResponse', 0]);
    expect(decide(p, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')).toEqual(['RequestResponse', 0]);
    expect(decide(p, 'GET', '/api/v1/namespaces')).toEqual(['RequestResponse', 0]);
  });
  it('a named Namespace is in its own namespace', () => {
    expect(decide(p, 'DELETE', '/api/v1/namespaces/prod')).toEqual(['Request', 1]);
    expect(decide(p, 'GET', '/api/v1/namespaces/kube-system')).toEqual(['Metadata', 2]);
  });
  it('never matches a non-resource URL', () => {
    expect(decide(p, 'GET', '/healthz')).toEqual(['Metadata', 2]);
  });
});

describe('evaluatePolicy: resources', () => {
  const forms = (resources: string, group = '""') => policy(`  - level: Request\n    resources: [{ group: ${group}, resources: ${resources} }]\n`);
  const exec = '/api/v1/namespaces/a/pods/web/exec';
  const pod = '/api/v1/namespaces/a/pods/web';
  const log = '/api/v1/namespaces/a/pods/web/log';
  it('"pods" matches pods, not their subresources', () => {
    const p = forms('["pods"]');
    expect([decide(p, 'GET', pod)[0], decide(p, 'POST', exec)[0]]).toEqual(['Request', 'None']);
  });
  it('"pods/exec" matches only that subresource', () => {
    const p = forms('["pods/exec"]');
    expect([decide(p, 'POST', exec)[0], decide(p, 'GET', pod)[0], decide(p, 'GET', log)[0]]).toEqual(['Request', 'None', 'None']);
  });
  it('"pods/*" matches pods and every subresource of pods', () => {
    const p = forms('["pods/*"]');
    expect([decide(p, 'GET', pod)[0], decide(p, 'POST', exec)[0], decide(p, 'GET', log)[0]]).toEqual(['Request', 'Request', 'Request']);
    expect(decide(p, 'GET', '/api/v1/namespaces/a/services/x/proxy')[0]).toBe('None');
  });
  it('"*/exec" matches exec of any resource, never the resource itself', () => {
    const p = forms('["*/exec"]');
    expect([decide(p, 'POST', exec)[0], decide(p, 'GET', pod)[0], decide(p, 'GET', log)[0]]).toEqual(['Request', 'None', 'None']);
  });
  it('"*" matches every resource and subresource of the group', () => {
    const p = forms('["*"]');
    expect([decide(p, 'POST', exec)[0], decide(p, 'GET', pod)[0]]).toEqual(['Request', 'Request']);
    expect(decide(p, 'GET', '/apis/apps/v1/deployments')[0]).toBe('None');
  });
  it('"*/*" matches nothing at all', () => {
    const p = forms('["*/*"]');
    expect([decide(p, 'POST', exec)[0], decide(p, 'GET', pod)[0]]).toEqual(['None', 'None']);
  });
  it('group "" is the core group only; group "*" is every group', () => {
    expect(decide(forms('["deployments"]'), 'GET', '/apis/apps/v1/namespaces/a/deployments/x')[0]).toBe('None');
    expect(decide(forms('["deployments"]', '"apps"'), 'GET', '/apis/apps/v1/namespaces/a/deployments/x')[0]).toBe('Request');
    expect(decide(forms('["deployments"]', '"*"'), 'GET', '/apis/apps/v1/namespaces/a/deployments/x')[0]).toBe('Request');
    expect(decide(forms('["*"]', '"*"'), 'GET', '/apis/example.com/v1/widgets')[0]).toBe('Request');
  });
  it('an entry without resources matches the whole group, subresources included', () => {
    const p = policy('  - level: Request\n    resources: [{ group: "" }]\n');
    expect([decide(p, 'POST', exec)[0], decide(p, 'GET', '/apis/apps/v1/deployments')[0]]).toEqual(['Request', 'None']);
  });
  it('resourceNames match exact names; a list or create has no name unless a field selector gives one', () => {
    const p = policy('  - level: RequestResponse\n    resources: [{ group: "", resources: ["secrets"], resourceNames: ["db"] }]\n');
    expect(decide(p, 'GET', '/api/v1/namespaces/a/secrets/db')[0]).toBe('RequestResponse');
    expect(decide(p, 'GET', '/api/v1/namespaces/a/secrets/other')[0]).toBe('None');
    expect(decide(p, 'GET', '/api/v1/namespaces/a/secrets')[0]).toBe('None');
    expect(decide(p, 'POST', '/api/v1/namespaces/a/secrets')[0]).toBe('None');
    expect(decide(p, 'GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Ddb')[0]).toBe('RequestResponse');
  });
  it('any entry of the list can match', () => {
    const p = policy('  - level: Request\n    resources: [{ group: "apps", resources: ["deployments"] }, { group: "", resources: ["secrets"] }]\n');
    expect([decide(p, 'GET', '/api/v1/secrets')[0], decide(p, 'GET', '/apis/apps/v1/deployments')[0]]).toEqual(['Request', 'Request']);
  });
  it('a resource rule never matches a non-resource URL', () => {
    expect(decide(forms('["*"]', '"*"'), 'GET', '/healthz')[0]).toBe('None');
  });
});

describe('evaluatePolicy: non-resource URLs', () => {
  const p = policy('  - level: None\n    nonResourceURLs: ["/healthz*"]\n  - level: Request\n    nonResourceURLs: ["/version", "/api*"]\n  - level: Metadata\n    nonResourceURLs: ["*"]\n');
  it('matches exact paths and prefixes ending in "*"', () => {
    expect(decide(p, 'GET', '/healthz')).toEqual(['None', 0]);
    expect(decide(p, 'GET', '/healthz/etcd')).toEqual(['None', 0]);
    expect(decide(p, 'GET', '/version')).toEqual(['Request', 1]);
    expect(decide(p, 'GET', '/version/x')).toEqual(['Metadata', 2]);
    expect(decide(p, 'GET', '/apis')).toEqual(['Request', 1]);
    expect(decide(p, 'GET', '/metrics')).toEqual(['Metadata', 2]);
  });
  it('never matches a resource request, even when the path fits', () => {
    expect(decide(p, 'GET', '/api/v1/pods')).toEqual(['None', null]);
  });
  it('pathMatches', () => {
    expect(pathMatches('/x', '*')).toBe(true);
    expect(pathMatches('/healthz', '/healthz*')).toBe(true);
    expect(pathMatches('/health', '/healthz*')).toBe(false);
    expect(pathMatches('/healthz', '/healthz/*')).toBe(false);
  });
  it('a hand-built rule with namespaces and URLs looks only at resources, as the API server does', () => {
    const p2 = policy('  - level: Metadata\n');
    const rule: PolicyRule = { ...p2.rules[0]!, namespaces: [''], nonResourceURLs: ['/healthz'] };
    const hand: AuditPolicy = { ...p2, rules: [rule] };
    expect(decide(hand, 'GET', '/healthz')[0]).toBe('None');
    expect(decide(hand, 'GET', '/api/v1/nodes')[0]).toBe('Metadata');
  });
});

describe('evaluatePolicy: stages and managed fields', () => {
  it('unites the rule omitStages with the policy ones, in stage order', () => {
    const p = policy('  - level: Request\n    omitStages: ["ResponseStarted", "RequestReceived"]\n', 'omitStages: ["Panic", "RequestReceived"]');
    expect(evaluatePolicy(p, requestAttributes({ method: 'GET', path: '/healthz' }, alice)).omitStages).toEqual(['RequestReceived', 'ResponseStarted', 'Panic']);
  });
  it('a rule omitManagedFields overrides the policy one, both ways', () => {
    const p = policy('  - level: Request\n    verbs: ["get"]\n    omitManagedFields: false\n  - level: Request\n    verbs: ["list"]\n  - level: Request\n    omitManagedFields: true\n', 'omitManagedFields: true');
    const omits = (method: string, path: string) => evaluatePolicy(p, requestAttributes({ method, path }, alice)).omitManagedFields;
    expect([omits('GET', '/api/v1/pods/x'), omits('GET', '/api/v1/pods'), omits('POST', '/api/v1/pods')]).toEqual([false, true, true]);
    const q = policy('  - level: Request\n    omitManagedFields: true\n  - level: Request\n');
    expect(evaluatePolicy(q, requestAttributes({ method: 'GET', path: '/healthz' }, alice)).omitManagedFields).toBe(true);
  });
});

describe('the canonical table under the lesson policy', () => {
  const seed = policy(`  - level: Request
    resources: [{ group: "", resources: ["secrets"] }]
  - level: RequestResponse
    resources: [{ group: "rbac.authorization.k8s.io", resources: ["clusterroles", "clusterrolebindings", "roles", "rolebindings"] }]
  - level: Request
    resources: [{ group: "", resources: ["pods/exec", "pods/portforward", "pods/attach"] }]
  - level: Metadata
    resources: [{ group: "", resources: ["nodes", "namespaces"] }]
  - level: Metadata
`);
  const expected: Record<string, [string, number]> = {};
  for (const r of CANONICAL_REQUESTS) {
    const rule = r.id.includes('secret') ? 0
      : /role|binding/.test(r.id) ? 1
      : /exec|attach|portforward/.test(r.id) ? 2
      : /node|namespace/.test(r.id) ? 3
      : 4;
    expected[r.id] = [['Request', 'RequestResponse', 'Request', 'Metadata', 'Metadata'][rule]!, rule];
  }
  it.each(CANONICAL_REQUESTS.map((r) => [r.id, r] as const))('%s', (_id, request) => {
    const { decision } = predict(seed, request, DEFAULT_IDENTITIES);
    expect([decision.level, decision.rule]).toEqual(expected[request.id]);
    expect(decision.omitStages).toEqual(['RequestReceived']);
  });
});
