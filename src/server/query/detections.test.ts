/**
 * The five detections on crafted events: each fires on the attacker and stays quiet on the
 * ordinary traffic of a cluster. (On real audit logs from a seeded cluster: the scenario's
 * integration test, once scenarios land.)
 */
import { describe, expect, it } from 'vitest';
import { DETECTIONS, detectionById } from '../../lib/query/detections.ts';
import { flaggedEvents, gradeDetection } from '../../lib/query/grading.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { seededRandom, syntheticLog } from './synthetic-audit-log.ts';

const rule = (id: string) => parseQuery(detectionById(id)!.query);
let n = 0;
const event = (over: { user?: string; groups?: string[]; verb: string; resource: string; ns?: string; name?: string; sub?: string; at?: string; group?: string; requestObject?: unknown; responseObject?: unknown }) => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  auditID: `id-${++n}`,
  stage: 'ResponseComplete',
  verb: over.verb,
  user: { username: over.user ?? 'system:serviceaccount:production:web-app', groups: over.groups ?? ['system:serviceaccounts', 'system:authenticated'] },
  objectRef: { resource: over.resource, ...(over.ns ? { namespace: over.ns } : {}), ...(over.name ? { name: over.name } : {}), ...(over.sub ? { subresource: over.sub } : {}), ...(over.group ? { apiGroup: over.group } : {}) },
  responseStatus: { code: 200 },
  requestReceivedTimestamp: over.at ?? '2026-11-27T09:01:00.000000Z',
  ...(over.requestObject ? { requestObject: over.requestObject } : {}),
  ...(over.responseObject ? { responseObject: over.responseObject } : {}),
});
const fires = (id: string, ...events: object[]) => flaggedEvents(rule(id), events).length > 0;

describe('on a synthetic cluster day with an attack', () => {
  for (const seed of [1, 2, 3]) {
    const log = syntheticLog({ random: seededRandom(seed), background: 6000, attackAt: 0.3 + seed / 10 });
    it.each(DETECTIONS.map((d) => d.id))(`seed ${seed}: %s flags only the attacker, and fires`, (id) => {
      const grade = gradeDetection(rule(id), log.events, log.attackerAuditIds);
      expect(grade.truePositives).toBeGreaterThan(0);
      expect(grade.falsePositives).toBe(0);
    });
  }
  it('grades a sloppy detection by precision and recall', () => {
    const log = syntheticLog({ random: seededRandom(9), background: 3000, attackAt: 0.5 });
    const broad = gradeDetection(parseQuery('objectRef.resource == "secrets"'), log.events, log.attackerAuditIds);
    expect(broad.recall).toBeCloseTo(6 / 9); // six secret reads of nine attacker requests (the exec logs two stages under one auditID)
    expect(broad.precision).toBeLessThan(0.05);
    const exact = gradeDetection(parseQuery('user.username == "system:serviceaccount:production:web-app" AND sourceIPs exists'), log.events, log.attackerAuditIds);
    expect(exact).toMatchObject({ precision: 1, recall: 1, falseNegatives: 0 });
    expect(gradeDetection(parseQuery('verb == "nothing"'), log.events, log.attackerAuditIds)).toMatchObject({ precision: 0, recall: 0 });
  });
});

describe('secret enumeration', () => {
  const read = (ns: string, at: string, user?: string, groups?: string[]) => event({ verb: 'get', resource: 'secrets', ns, name: 's', at, user, groups });
  it('fires at three namespaces within one ten-minute window', () => {
    expect(fires('secret-enumeration', read('a', '2026-11-27T09:01:00Z'), read('b', '2026-11-27T09:02:00Z'), read('c', '2026-11-27T09:03:00Z'))).toBe(true);
    expect(fires('secret-enumeration', read('a', '2026-11-27T09:01:00Z'), read('b', '2026-11-27T09:02:00Z'), read('b', '2026-11-27T09:03:00Z'))).toBe(false);
  });
  it('does not add up namespaces read in different windows', () => {
    expect(fires('secret-enumeration', read('a', '2026-11-27T09:01:00Z'), read('b', '2026-11-27T09:12:00Z'), read('c', '2026-11-27T09:23:00Z'))).toBe(false);
  });
  it('stays quiet for kubelets and controllers that read secrets everywhere', () => {
    const kubelet = ['a', 'b', 'c', 'd'].map((ns) => read(ns, '2026-11-27T09:01:00Z', 'system:node:worker-1', ['system:nodes']));
    const controller = ['a', 'b', 'c', 'd'].map((ns) => read(ns, '2026-11-27T09:01:00Z', 'system:serviceaccount:kube-system:generic-garbage-collector'));
    expect(fires('secret-enumeration', ...kubelet, ...controller)).toBe(false);
  });
  it('flags every secret read of the identity in the window that crossed the threshold', () => {
    const events = [read('a', '2026-11-27T09:01:00Z'), read('b', '2026-11-27T09:02:00Z'), read('c', '2026-11-27T09:03:00Z'), read('a', '2026-11-27T09:30:00Z')];
    expect(flaggedEvents(rule('secret-enumeration'), events)).toEqual(events.slice(0, 3).map((e) => ({ ...e, window: '2026-11-27T09:00:00Z' })));
  });
});

describe('RBAC escalation', () => {
  const crb = (user: string) => event({ user, verb: 'create', resource: 'clusterrolebindings', name: 'x', group: 'rbac.authorization.k8s.io' });
  const rb = (role: string) => event({ user: 'system:serviceaccount:ci:deployer', verb: 'create', resource: 'rolebindings', ns: 'production', name: 'x', group: 'rbac.authorization.k8s.io', requestObject: { roleRef: { kind: 'ClusterRole', name: role } } });
  it('fires on a cluster role binding by a workload identity or a person', () => {
    expect(fires('rbac-escalation', crb('system:serviceaccount:production:web-app'))).toBe(true);
    expect(fires('rbac-escalation', crb('mallory@example.com'))).toBe(true);
  });
  it('stays quiet on the API server reconciling its default bindings', () => {
    expect(fires('rbac-escalation', crb('system:apiserver'), crb('system:kube-controller-manager'))).toBe(false);
  });
  it('fires on a role binding to a powerful role, not to a namespace role', () => {
    expect(fires('rbac-escalation', rb('cluster-admin'))).toBe(true);
    expect(fires('rbac-escalation', rb('web-app-view'))).toBe(false);
  });
});

describe('pod exec in production', () => {
  it('fires on both transports: SPDY (create) and WebSockets (get)', () => {
    expect(fires('pod-exec-production', event({ verb: 'create', resource: 'pods', ns: 'production', name: 'web', sub: 'exec' }))).toBe(true);
    expect(fires('pod-exec-production', event({ verb: 'get', resource: 'pods', ns: 'production', name: 'web', sub: 'exec' }))).toBe(true);
    expect(fires('pod-exec-production', event({ verb: 'get', resource: 'pods', ns: 'production', name: 'web', sub: 'attach' }))).toBe(true);
  });
  it('stays quiet on exec elsewhere, on logs, and on pod reads in production', () => {
    expect(
      fires(
        'pod-exec-production',
        event({ user: 'alice@example.com', verb: 'get', resource: 'pods', ns: 'staging', name: 'web', sub: 'exec' }),
        event({ user: 'alice@example.com', verb: 'get', resource: 'pods', ns: 'production', name: 'web', sub: 'log' }),
        event({ user: 'system:serviceaccount:monitoring:prometheus', verb: 'list', resource: 'pods', ns: 'production' }),
      ),
    ).toBe(false);
  });
});

describe('service-account token theft', () => {
  it('fires on reading a token secret by name, or by type where the response is logged', () => {
    expect(fires('sa-token-theft', event({ verb: 'get', resource: 'secrets', ns: 'kube-system', name: 'legacy-admin-token' }))).toBe(true);
    expect(fires('sa-token-theft', event({ verb: 'get', resource: 'secrets', ns: 'ci', name: 'deployer-token-x7k2p' }))).toBe(true);
    expect(fires('sa-token-theft', event({ verb: 'get', resource: 'secrets', ns: 'ci', name: 'robot', responseObject: { type: 'kubernetes.io/service-account-token' } }))).toBe(true);
    expect(fires('sa-token-theft', event({ verb: 'list', resource: 'secrets', ns: 'ci', responseObject: { items: [{ type: 'Opaque' }, { type: 'kubernetes.io/service-account-token' }] } }))).toBe(true);
  });
  it('stays quiet on kubelets mounting secrets, on writes, and on other secrets', () => {
    expect(
      fires(
        'sa-token-theft',
        event({ user: 'system:node:worker-1', groups: ['system:nodes'], verb: 'get', resource: 'secrets', ns: 'ci', name: 'registry-token' }),
        event({ user: 'system:serviceaccount:ci:deployer', verb: 'create', resource: 'secrets', ns: 'ci', name: 'deployer-token' }),
        event({ verb: 'get', resource: 'secrets', ns: 'production', name: 'db-credentials', responseObject: { type: 'Opaque' } }),
      ),
    ).toBe(false);
  });
});

describe('pods created in kube-system', () => {
  const create = (user: string, sub?: string) => event({ user, verb: 'create', resource: 'pods', ns: 'kube-system', name: 'p', sub });
  it('fires on a pod created by a workload identity or a person', () => {
    expect(fires('kube-system-pod', create('system:serviceaccount:production:web-app'))).toBe(true);
    expect(fires('kube-system-pod', create('bob@example.com'))).toBe(true);
  });
  it('stays quiet on controllers, kubelet mirror pods, scheduler bindings and evictions', () => {
    expect(
      fires(
        'kube-system-pod',
        create('system:serviceaccount:kube-system:daemon-set-controller'),
        create('system:serviceaccount:kube-system:replicaset-controller'),
        create('system:node:control-plane'),
        create('system:kube-scheduler', 'binding'),
        create('alice@example.com', 'eviction'),
      ),
    ).toBe(false);
  });
});
