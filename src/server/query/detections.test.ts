/**
 * The detections on crafted events: each fires on the attacker and stays quiet on the ordinary
 * traffic of a cluster. On a real audit log from a seeded cluster:
 * tests/integration/scenario-detections.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DETECTIONS, detectionById } from '../../lib/query/detections.ts';
import { flaggedEvents, gradeDetection } from '../../lib/query/grading.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { seededRandom, syntheticLog } from './synthetic-audit-log.ts';

const rule = (id: string) => parseQuery(detectionById(id)!.query);
let n = 0;
const KCM = 'kube-controller-manager/v1.34.1 (linux/amd64) kubernetes/abc1234';
const KUBECTL = 'kubectl/v1.34.1 (linux/amd64) kubernetes/abc1234';
const ks = (name: string) => `system:serviceaccount:kube-system:${name}`;
const event = (over: { user?: string; groups?: string[]; agent?: string; verb: string; resource: string; ns?: string; name?: string; sub?: string; at?: string; group?: string; requestObject?: unknown; responseObject?: unknown }) => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  auditID: `id-${++n}`,
  stage: 'ResponseComplete',
  verb: over.verb,
  user: { username: over.user ?? 'system:serviceaccount:production:web-app', groups: over.groups ?? ['system:serviceaccounts', 'system:authenticated'] },
  objectRef: { resource: over.resource, ...(over.ns ? { namespace: over.ns } : {}), ...(over.name ? { name: over.name } : {}), ...(over.sub ? { subresource: over.sub } : {}), ...(over.group ? { apiGroup: over.group } : {}) },
  userAgent: over.agent ?? (over.user?.startsWith('system:serviceaccount:kube-system:') ? `${KCM}/${over.user}` : KUBECTL),
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
    expect(broad.recall).toBeCloseTo(6 / 10); // six secret reads of ten attacker requests (the exec logs two stages under one auditID)
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
  it('stays quiet on the namespace controller emptying namespaces and the garbage collector reading dependents', () => {
    const ns = ['a', 'b', 'c', 'd'];
    const namespaceController = ns.map((n) => event({ user: ks('namespace-controller'), verb: 'list', resource: 'secrets', ns: n }));
    const gc = ns.map((n) => event({ user: ks('generic-garbage-collector'), verb: 'get', resource: 'secrets', ns: n, name: 'owned' }));
    expect(fires('secret-enumeration', ...namespaceController, ...gc)).toBe(false);
  });
  it('fires on a kube-system service-account token used from outside the controller manager', () => {
    // The garbage collector may get/list every secret: a minted or stolen copy of its token is a prize.
    const stolen = ['a', 'b', 'c'].map((n) => event({ user: ks('generic-garbage-collector'), agent: KUBECTL, verb: 'list', resource: 'secrets', ns: n }));
    expect(fires('secret-enumeration', ...stolen)).toBe(true);
    // Its own agent, but not its behaviour: the garbage collector never lists secrets namespace by namespace.
    const copiedAgent = ['a', 'b', 'c'].map((n) => event({ user: ks('generic-garbage-collector'), verb: 'list', resource: 'secrets', ns: n }));
    expect(fires('secret-enumeration', ...copiedAgent)).toBe(true);
    const otherController = ['a', 'b', 'c'].map((n) => event({ user: ks('clusterrole-aggregation-controller'), verb: 'get', resource: 'secrets', ns: n, name: 'x' }));
    expect(fires('secret-enumeration', ...otherController)).toBe(true);
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
    expect(fires('rbac-escalation', crb('system:apiserver'))).toBe(false);
  });
  it('fires on a binding written with a kube-system service-account token: no controller writes bindings', () => {
    expect(fires('rbac-escalation', crb(ks('clusterrole-aggregation-controller')))).toBe(true);
    expect(fires('rbac-escalation', event({ user: ks('deployment-controller'), verb: 'create', resource: 'clusterrolebindings', name: 'x', group: 'rbac.authorization.k8s.io' }))).toBe(true);
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
  it('fires on a token secret read with a kube-system service-account token', () => {
    expect(fires('sa-token-theft', event({ user: ks('generic-garbage-collector'), verb: 'get', resource: 'secrets', ns: 'ci', name: 'deployer-token' }))).toBe(true);
    // The legacy token cleaner reads through the shared informer and only patches or deletes by name.
    expect(fires('sa-token-theft', event({ user: ks('legacy-service-account-token-cleaner'), verb: 'get', resource: 'secrets', ns: 'ci', name: 'deployer-token' }))).toBe(true);
  });
  it('fires on a pretend kubelet: a node name without the nodes group is not a kubelet', () => {
    expect(fires('sa-token-theft', event({ user: 'system:node:worker-1', groups: ['system:authenticated'], verb: 'get', resource: 'secrets', ns: 'ci', name: 'deployer-token' }))).toBe(true);
  });
});

const hostPod = { metadata: { name: 'agent' }, spec: { hostPID: true, containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] } };

describe('tokens minted for kube-system service accounts', () => {
  const mint = (user: string, ns = 'kube-system', groups?: string[]) => event({ user, groups, verb: 'create', resource: 'serviceaccounts', ns, name: 'generic-garbage-collector', sub: 'token' });
  it('fires on a workload identity or a person minting a controller\'s token', () => {
    expect(fires('kube-system-token-request', mint('system:serviceaccount:production:web-app'))).toBe(true);
    expect(fires('kube-system-token-request', mint('mallory@example.com'))).toBe(true);
    expect(fires('kube-system-token-request', mint(ks('clusterrole-aggregation-controller')))).toBe(true);
    // The controller manager's agent without its admin certificate is not the controller manager.
    expect(fires('kube-system-token-request', event({ user: 'mallory@example.com', agent: `${KCM}/kube-controller-manager`, verb: 'create', resource: 'serviceaccounts', ns: 'kube-system', name: 'job-controller', sub: 'token' }))).toBe(true);
  });
  it('stays quiet on the controller manager minting its controllers\' tokens, kubelets minting their pods\' tokens, and other namespaces', () => {
    expect(
      fires(
        'kube-system-token-request',
        mint('system:kube-controller-manager'),
        // kwok's controller manager: its root client holds an admin certificate.
        event({ user: 'kwok-admin', groups: ['system:masters', 'system:authenticated'], agent: `${KCM}/kube-controller-manager`, verb: 'create', resource: 'serviceaccounts', ns: 'kube-system', name: 'job-controller', sub: 'token' }),
        mint('system:node:worker-1', 'kube-system', ['system:nodes', 'system:authenticated']),
        mint('system:serviceaccount:ci:deployer', 'staging'),
        event({ verb: 'get', resource: 'serviceaccounts', ns: 'kube-system', name: 'generic-garbage-collector' }),
      ),
    ).toBe(false);
  });
});

describe('pods and workloads created in kube-system', () => {
  const create = (user: string, sub?: string, resource = 'pods', agent?: string) => event({ user, agent, verb: 'create', resource, ns: 'kube-system', name: 'p', sub });
  it('fires on a pod created by a workload identity or a person', () => {
    expect(fires('kube-system-workload', create('system:serviceaccount:production:web-app'))).toBe(true);
    expect(fires('kube-system-workload', create('bob@example.com'))).toBe(true);
  });
  it('fires on a workload whose pods the controllers would create: the creation is the alert', () => {
    for (const resource of ['daemonsets', 'deployments', 'replicasets', 'statefulsets', 'jobs', 'cronjobs', 'replicationcontrollers']) {
      expect(fires('kube-system-workload', create('system:serviceaccount:production:web-app', undefined, resource)), resource).toBe(true);
    }
  });
  it('fires on a pod created with a controller\'s token from outside the controller manager', () => {
    expect(fires('kube-system-workload', create(ks('replicaset-controller'), undefined, 'pods', KUBECTL))).toBe(true);
    expect(fires('kube-system-workload', create(ks('generic-garbage-collector')))).toBe(true);
    // A controller making what is not its to make.
    expect(fires('kube-system-workload', create(ks('daemon-set-controller'), undefined, 'daemonsets'))).toBe(true);
  });
  it('stays quiet on controllers acting for a workload, kubelet mirror pods, scheduler bindings and evictions', () => {
    expect(
      fires(
        'kube-system-workload',
        create(ks('daemon-set-controller')),
        create(ks('replicaset-controller')),
        create(ks('job-controller')),
        create(ks('deployment-controller'), undefined, 'replicasets'),
        create(ks('cronjob-controller'), undefined, 'jobs'),
        event({ user: 'system:node:control-plane', groups: ['system:nodes', 'system:authenticated'], verb: 'create', resource: 'pods', ns: 'kube-system', name: 'kube-apiserver-control-plane' }),
        create('system:kube-scheduler', 'binding'),
        create('alice@example.com', 'eviction'),
      ),
    ).toBe(false);
  });
});

describe('pods with host access', () => {
  const write = (over: { user?: string; groups?: string[]; agent?: string; verb?: string; resource?: string; ns?: string; body: unknown }) =>
    event({ user: over.user, groups: over.groups, agent: over.agent, verb: over.verb ?? 'create', resource: over.resource ?? 'pods', ns: over.ns ?? 'default', name: 'x', requestObject: over.body });
  const template = (spec: unknown) => ({ spec: { template: { spec } } });
  it('fires on a privileged, host-PID, host-IPC or hostPath pod in any namespace, whoever creates it', () => {
    expect(fires('host-access-pod', write({ body: hostPod }))).toBe(true);
    expect(fires('host-access-pod', write({ ns: 'kube-system', body: { spec: { hostIPC: true, containers: [{ name: 'c' }] } } }))).toBe(true);
    expect(fires('host-access-pod', write({ body: { spec: { containers: [{ name: 'c' }], volumes: [{ name: 'v', emptyDir: {} }, { name: 'root', hostPath: { path: '/' } }] } } }))).toBe(true);
    expect(fires('host-access-pod', write({ body: { spec: { initContainers: [{ name: 'i', securityContext: { privileged: true } }], containers: [{ name: 'c' }] } } }))).toBe(true);
    expect(fires('host-access-pod', write({ user: ks('replicaset-controller'), agent: KUBECTL, ns: 'kube-system', body: hostPod }))).toBe(true);
  });
  it('fires on a workload template or CronJob job template that asks for the host, created or patched', () => {
    expect(fires('host-access-pod', write({ resource: 'daemonsets', ns: 'kube-system', body: template(hostPod.spec) }))).toBe(true);
    expect(fires('host-access-pod', write({ verb: 'patch', resource: 'deployments', body: template({ hostPID: true }) }))).toBe(true);
    expect(fires('host-access-pod', write({ resource: 'cronjobs', body: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', securityContext: { privileged: true } }] } } } } } } }))).toBe(true);
  });
  it('fires on a privileged ephemeral debug container added to a running pod', () => {
    const debug = event({ user: 'alice@example.com', verb: 'patch', resource: 'pods', ns: 'production', name: 'web', sub: 'ephemeralcontainers', requestObject: { spec: { ephemeralContainers: [{ name: 'debugger', securityContext: { privileged: true } }] } } });
    expect(fires('host-access-pod', debug)).toBe(true);
    expect(fires('host-access-pod', { ...debug, requestObject: { spec: { ephemeralContainers: [{ name: 'debugger' }] } } })).toBe(false);
  });
  it('stays quiet on ordinary pods, host networking alone, controllers acting for a workload and mirror pods', () => {
    expect(
      fires(
        'host-access-pod',
        write({ body: { spec: { containers: [{ name: 'c', securityContext: { privileged: false, runAsNonRoot: true } }] } } }),
        write({ resource: 'daemonsets', body: template({ hostNetwork: true, containers: [{ name: 'exporter' }] }) }),
        write({ user: ks('daemon-set-controller'), ns: 'kube-system', body: hostPod }),
        write({ user: 'system:node:control-plane', groups: ['system:nodes', 'system:authenticated'], ns: 'kube-system', body: { spec: { volumes: [{ hostPath: { path: '/etc/kubernetes' } }] } } }),
      ),
    ).toBe(false);
  });
  it('sees nothing at Metadata level, where the request body is not logged', () => {
    expect(fires('host-access-pod', event({ verb: 'create', resource: 'pods', ns: 'kube-system', name: 'agent' }))).toBe(false);
  });
});
