/**
 * Synthetic audit.k8s.io/v1 events in the shape and mix a real kube-apiserver writes: control-plane
 * controllers, the scheduler, kubelets, a CI deployer, monitoring, cert-manager, admins, and an
 * attacker using the `web-app` service account of `production`. For the query benchmark (a
 * million events) and for crafted unit tests of the detections; the detections are proven on real
 * audit logs of a real cluster by the scenario's integration test, not by this.
 *
 * Deterministic for a seed: pass the random source in.
 */

export type Random = () => number;

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Event = Record<string, unknown>;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

const APP_NAMESPACES = ['production', 'staging', 'payments', 'monitoring', 'cert-manager', 'ci', 'default'];
const NODES = ['worker-1', 'worker-2', 'worker-3', 'control-plane'];
const RESOURCES_WATCHED = ['pods', 'services', 'endpoints', 'configmaps', 'deployments', 'replicasets', 'nodes', 'leases', 'serviceaccounts', 'namespaces'];
const CONTROLLERS = ['replicaset-controller', 'deployment-controller', 'endpointslice-controller', 'namespace-controller', 'daemon-set-controller', 'job-controller', 'generic-garbage-collector', 'resourcequota-controller'];
const GROUPS: Record<string, string> = { deployments: 'apps', replicasets: 'apps', leases: 'coordination.k8s.io', endpointslices: 'discovery.k8s.io', clusterrolebindings: 'rbac.authorization.k8s.io', rolebindings: 'rbac.authorization.k8s.io' };
const POD_IP = '10.244.2.17';
const OUTSIDE_IP = '203.0.113.50';

interface Request {
  user: { username: string; groups: string[]; extra?: Record<string, string[]>; uid?: string };
  verb: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  code?: number;
  ips?: string[];
  agent: string;
  query?: string;
  requestObject?: unknown;
  responseObject?: unknown;
  level?: string;
  stage?: string;
}

function serviceAccount(random: Random, ns: string, name: string, pod?: string): Request['user'] {
  return {
    username: `system:serviceaccount:${ns}:${name}`,
    uid: uuid(random),
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    extra: {
      'authentication.kubernetes.io/credential-id': [`JTI=${uuid(random)}`],
      ...(pod ? { 'authentication.kubernetes.io/node-name': [pick(random, NODES)], 'authentication.kubernetes.io/pod-name': [pod], 'authentication.kubernetes.io/pod-uid': [uuid(random)] } : {}),
    },
  };
}

function toEvent(random: Random, request: Request, micros: number): Event {
  const { resource, namespace, name, subresource } = request;
  const group = resource ? (GROUPS[resource] ?? '') : '';
  const base = resource ? `/${group ? `apis/${group}/v1` : 'api/v1'}${namespace ? `/namespaces/${namespace}` : ''}/${resource}${name ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}` : '/healthz';
  const code = request.code ?? (request.verb === 'create' ? 201 : 200);
  const received = new Date(micros / 1000).toISOString().replace('Z', `${String(micros % 1000).padStart(3, '0')}Z`);
  const done = new Date(micros / 1000 + 3 + random() * 20).toISOString().replace('Z', `${String(Math.floor(random() * 1000)).padStart(3, '0')}Z`);
  const role = request.user.username.startsWith('system:serviceaccount:') ? `ClusterRole "${request.user.username.split(':')[3]}"` : 'ClusterRole "cluster-admin"';
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: request.level ?? 'Metadata',
    auditID: uuid(random),
    stage: request.stage ?? 'ResponseComplete',
    requestURI: `${base}${request.query ?? ''}`,
    verb: request.verb,
    user: request.user,
    sourceIPs: request.ips ?? ['172.18.0.2'],
    userAgent: request.agent,
    ...(resource ? { objectRef: { resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), ...(group ? { apiGroup: group } : {}), apiVersion: group ? 'v1' : 'v1', ...(subresource ? { subresource } : {}) } } : {}),
    responseStatus: { metadata: {}, ...(code >= 400 ? { status: 'Failure', message: `${resource} is forbidden: User "${request.user.username}" cannot ${request.verb} resource "${resource}"`, reason: 'Forbidden' } : {}), code },
    ...(request.requestObject ? { requestObject: request.requestObject } : {}),
    ...(request.responseObject ? { responseObject: request.responseObject } : {}),
    requestReceivedTimestamp: received,
    stageTimestamp: done,
    annotations: {
      'authorization.k8s.io/decision': code === 403 ? 'forbid' : 'allow',
      'authorization.k8s.io/reason': code === 403 ? '' : `RBAC: allowed by ClusterRoleBinding "${role.slice(13, -1)}-binding" of ${role} to ${request.user.username.startsWith('system:serviceaccount:') ? 'ServiceAccount' : 'User'} "${request.user.username}"`,
    },
  };
}

/** One background request from the cluster's ordinary traffic. */
function background(random: Random): Request {
  const roll = random();
  const kubeAgent = (who: string) => `${who}/v1.34.1 (linux/amd64) kubernetes/abc1234/${who}`;
  if (roll < 0.3) {
    // Controllers: list/watch everything, update status, create pods for their workloads.
    const controller = pick(random, CONTROLLERS);
    const user = serviceAccount(random, 'kube-system', controller);
    const ns = pick(random, [...APP_NAMESPACES, 'kube-system']);
    const r = random();
    if (r < 0.55) return { user, verb: 'watch', resource: pick(random, RESOURCES_WATCHED), agent: kubeAgent('kube-controller-manager'), stage: 'ResponseStarted', query: `?allowWatchBookmarks=true&resourceVersion=${Math.floor(random() * 1e6)}&timeout=8m12s&timeoutSeconds=492&watch=true` };
    if (r < 0.8) return { user, verb: 'update', resource: pick(random, ['replicasets', 'deployments', 'endpoints']), namespace: ns, name: `app-${Math.floor(random() * 40)}`, subresource: 'status', agent: kubeAgent('kube-controller-manager') };
    if (r < 0.9) return { user: serviceAccount(random, 'kube-system', pick(random, ['replicaset-controller', 'daemon-set-controller'])), verb: 'create', resource: 'pods', namespace: pick(random, [...APP_NAMESPACES, 'kube-system', 'kube-system']), agent: kubeAgent('kube-controller-manager'), level: 'Request' };
    return { user: serviceAccount(random, 'kube-system', 'generic-garbage-collector'), verb: 'list', resource: pick(random, ['secrets', 'configmaps', 'pods']), agent: kubeAgent('kube-controller-manager'), query: '?limit=500&resourceVersion=0' };
  }
  if (roll < 0.55) {
    // Kubelets: leases, pod status, the secrets and configmaps of their pods, tokens for their pods.
    const node = pick(random, NODES);
    const user = { username: `system:node:${node}`, groups: ['system:nodes', 'system:authenticated'] };
    const agent = `kubelet/v1.34.1 (linux/amd64) kubernetes/abc1234`;
    const ns = pick(random, [...APP_NAMESPACES, 'kube-system']);
    const r = random();
    if (r < 0.35) return { user, verb: 'update', resource: 'leases', namespace: 'kube-node-lease', name: node, agent };
    if (r < 0.6) return { user, verb: 'patch', resource: 'pods', namespace: ns, name: `app-${Math.floor(random() * 40)}-7d9f8`, subresource: 'status', agent };
    if (r < 0.8) return { user, verb: pick(random, ['get', 'watch', 'list']), resource: pick(random, ['secrets', 'configmaps']), namespace: ns, name: pick(random, ['db-credentials', 'registry-token', 'kube-root-ca.crt', 'app-config']), agent, query: '?fieldSelector=metadata.name%3Dapp-config&limit=500&resourceVersion=0' };
    if (r < 0.9) return { user, verb: 'create', resource: 'serviceaccounts', namespace: ns, name: pick(random, ['default', 'web-app', 'prometheus']), subresource: 'token', agent };
    return { user, verb: 'get', resource: 'nodes', name: node, agent };
  }
  if (roll < 0.68) {
    // The scheduler and the API server itself.
    if (random() < 0.5) {
      return { user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] }, verb: pick(random, ['create', 'watch', 'update']), resource: 'pods', namespace: pick(random, [...APP_NAMESPACES, 'kube-system']), name: `app-${Math.floor(random() * 40)}-7d9f8`, subresource: 'binding', agent: kubeAgent('kube-scheduler') };
    }
    return { user: { username: 'system:apiserver', uid: uuid(random), groups: ['system:authenticated'] }, verb: pick(random, ['get', 'update']), resource: pick(random, ['leases', 'endpoints', 'namespaces']), namespace: 'kube-system', name: 'apiserver-lease', agent: 'kube-apiserver/v1.34.1 (linux/amd64) kubernetes/abc1234' };
  }
  if (roll < 0.8) {
    // Monitoring: Prometheus discovers targets.
    return { user: serviceAccount(random, 'monitoring', 'prometheus', 'prometheus-0'), verb: pick(random, ['list', 'watch', 'get']), resource: pick(random, ['pods', 'endpoints', 'services', 'nodes']), namespace: pick(random, APP_NAMESPACES), agent: 'prometheus/2.54.1', ips: ['10.244.1.9'] };
  }
  if (roll < 0.88) {
    // cert-manager watches secrets cluster-wide and writes certificates' secrets.
    const user = serviceAccount(random, 'cert-manager', 'cert-manager', 'cert-manager-5d4b9');
    if (random() < 0.6) return { user, verb: 'watch', resource: 'secrets', agent: 'cert-manager/v1.16.1', stage: 'ResponseStarted', query: '?allowWatchBookmarks=true&labelSelector=controller.cert-manager.io%2Ffao&watch=true' };
    return { user, verb: 'update', resource: 'secrets', namespace: pick(random, ['production', 'staging']), name: 'web-tls', agent: 'cert-manager/v1.16.1' };
  }
  if (roll < 0.95) {
    // The CI deployer rolls out releases: patches deployments, writes configmaps and secrets, binds namespace roles.
    const user = serviceAccount(random, 'ci', 'deployer');
    const ns = pick(random, ['production', 'staging']);
    const r = random();
    const agent = 'helm/v3.16.2';
    if (r < 0.5) return { user, verb: 'patch', resource: 'deployments', namespace: ns, name: 'web-app', agent, ips: ['192.0.2.10'] };
    if (r < 0.8) return { user, verb: pick(random, ['create', 'update']), resource: pick(random, ['configmaps', 'secrets']), namespace: ns, name: 'web-app-config', agent, ips: ['192.0.2.10'] };
    if (r < 0.95) return { user, verb: 'get', resource: 'deployments', namespace: ns, name: 'web-app', agent, ips: ['192.0.2.10'] };
    return { user, verb: 'create', resource: 'rolebindings', namespace: ns, name: 'web-app-view', agent, ips: ['192.0.2.10'], level: 'RequestResponse', requestObject: { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'web-app-view', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'web-app-view' }, subjects: [{ kind: 'ServiceAccount', name: 'web-app', namespace: ns }] } };
  }
  // Admins: look around, read logs, exec into staging, read one secret.
  const admin = pick(random, ['alice@example.com', 'bob@example.com']);
  const user = { username: admin, groups: ['system:masters', 'system:authenticated'] };
  const agent = 'kubectl/v1.34.1 (linux/amd64) kubernetes/abc1234';
  const ns = pick(random, ['production', 'staging', 'payments']);
  const r = random();
  if (r < 0.5) return { user, verb: pick(random, ['get', 'list']), resource: pick(random, ['pods', 'deployments', 'events', 'services']), namespace: ns, agent, ips: ['198.51.100.7'] };
  if (r < 0.7) return { user, verb: 'get', resource: 'pods', namespace: ns, name: 'web-app-6c9d7-x2x4k', subresource: 'log', agent, ips: ['198.51.100.7'] };
  if (r < 0.85) return { user, verb: 'get', resource: 'pods', namespace: 'staging', name: 'web-app-6c9d7-q8r2m', subresource: 'exec', agent, ips: ['198.51.100.7'], query: '?command=sh&container=web&stdin=true&stdout=true&tty=true' };
  return { user, verb: 'get', resource: 'secrets', namespace: 'staging', name: 'web-app-config', agent, ips: ['198.51.100.7'] };
}

/** The attack, in order: enumeration, token theft, escalation, exec, a kube-system token minted, namespace escape. */
function attack(random: Random): Request[] {
  const pod = 'web-app-6c9d7-x2x4k';
  const user = serviceAccount(random, 'production', 'web-app', pod);
  const inPod = { user, agent: 'curl/8.5.0', ips: [POD_IP] };
  const outside = { user, agent: 'kubectl/v1.34.1 (linux/amd64) kubernetes/abc1234', ips: [OUTSIDE_IP, POD_IP] };
  return [
    { ...inPod, verb: 'list', resource: 'secrets', namespace: 'production' },
    { ...inPod, verb: 'get', resource: 'secrets', namespace: 'production', name: 'db-credentials' },
    { ...inPod, verb: 'get', resource: 'secrets', namespace: 'payments', name: 'db-credentials' },
    { ...inPod, verb: 'list', resource: 'secrets', namespace: 'monitoring', code: 403 },
    { ...inPod, verb: 'list', resource: 'secrets', namespace: 'kube-system' },
    { ...inPod, verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 'legacy-admin-token' },
    {
      ...outside,
      verb: 'create',
      resource: 'clusterrolebindings',
      name: 'web-app-admin',
      level: 'RequestResponse',
      requestObject: { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'web-app-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'web-app', namespace: 'production' }] },
    },
    { ...outside, verb: 'get', resource: 'pods', namespace: 'production', name: pod, subresource: 'exec', stage: 'ResponseStarted', query: '?command=sh&container=web&stdin=true&stdout=true&tty=true' },
    { ...outside, verb: 'create', resource: 'serviceaccounts', namespace: 'kube-system', name: 'generic-garbage-collector', subresource: 'token', level: 'Metadata' },
    { ...outside, verb: 'create', resource: 'pods', namespace: 'kube-system', name: 'kube-proxy-debug', level: 'Request', requestObject: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'kube-proxy-debug', namespace: 'kube-system' }, spec: { hostPID: true, containers: [{ name: 'c', image: 'attacker.example/tools:1', securityContext: { privileged: true } }] } } },
  ];
}

export interface SyntheticLog {
  /** Events in time order. */
  events: Event[];
  /** The auditIDs of the attacker's requests: the answer key. */
  attackerAuditIds: Set<string>;
}

export interface LogOptions {
  random: Random;
  /** Background events (the attack adds its own). */
  background: number;
  /** First timestamp, microseconds since the epoch. */
  startMicros?: number;
  /** Mean gap between events, in microseconds. */
  gapMicros?: number;
  /** Where the attack starts, as a share of the log (0..1); omit for no attack. */
  attackAt?: number;
}

/** Events one at a time (the benchmark writes a million without holding them). */
export function* syntheticEvents(options: LogOptions): Generator<{ event: Event; attacker: boolean }> {
  const { random, background: count, attackAt } = options;
  let t = options.startMicros ?? Date.UTC(2026, 10, 27, 9, 0, 0) * 1000;
  const gap = options.gapMicros ?? 15_000;
  const attackIndex = attackAt === undefined ? -1 : Math.floor(count * attackAt);
  for (let i = 0; i < count; i++) {
    if (i === attackIndex) {
      for (const step of attack(random)) {
        t += 4_000_000 + Math.floor(random() * 30_000_000);
        const event = toEvent(random, step, t);
        yield { event, attacker: true };
        if (step.subresource === 'exec') yield { event: { ...event, stage: 'ResponseComplete', stageTimestamp: event.stageTimestamp }, attacker: true };
      }
    }
    t += Math.floor(random() * gap * 2);
    yield { event: toEvent(random, background(random), t), attacker: false };
  }
}

export function syntheticLog(options: LogOptions): SyntheticLog {
  const events: Event[] = [];
  const attackerAuditIds = new Set<string>();
  for (const { event, attacker } of syntheticEvents(options)) {
    events.push(event);
    if (attacker) attackerAuditIds.add(event.auditID as string);
  }
  return { events, attackerAuditIds };
}

/** One line as the API server writes it: Go's encoder escapes <, > and & as \u003c, \u003e, \u0026. */
export function toAuditLine(event: unknown): string {
  return JSON.stringify(event).replaceAll('&', '\\u0026').replaceAll('<', '\\u003c').replaceAll('>', '\\u003e');
}
