/**
 * Runs a scenario's timeline: every step is one request, made with the identity's own
 * credentials from the address the scenario gives it, so the real API server authenticates,
 * authorizes and audits it exactly as it would the attacker's or a colleague's.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { durationMs, type Scenario, type ScenarioStep } from '../../schemas/scenario.ts';
import { callApi, resourcePath, tokenKubeConfig, type ApiRequest, type ApiResponse, type Caller } from './kube-request.ts';
import { fill } from './template.ts';
import type { ParamValue } from './params.ts';
import { admin, type PodSummary } from './world.ts';

export interface IdentityCredentials {
  /** The username the API server will log, e.g. `system:serviceaccount:production:web-app`. */
  username: string;
  kubeConfig: KubeConfig;
  /** The bearer token, when the identity uses one (evidence files may contain it). */
  token?: string;
}

/** Resolves every identity to working credentials: bound tokens for service accounts, the
 * secret's token for stolen credentials, the admin kubeconfig for the admin. */
export async function resolveIdentities(
  adminConfig: KubeConfig,
  identities: Scenario['identities'],
  pods: PodSummary[],
  /** The node's kubelet credential, for `nodeCredential` identities (kind only). */
  nodeCredential?: NodeCredential,
): Promise<Record<string, IdentityCredentials>> {
  const resolved: Record<string, IdentityCredentials> = {};
  for (const [name, identity] of Object.entries(identities)) {
    if (identity.admin) {
      resolved[name] = { username: adminConfig.getCurrentUser()?.name ?? 'admin', kubeConfig: adminConfig };
      continue;
    }
    if (identity.nodeCredential) {
      if (!nodeCredential) throw new Error(`identity ${name} is a node's kubelet credential, which only a real node has: seed this scenario on kind (--provider kind)`);
      resolved[name] = { username: `system:node:${nodeCredential.nodeName}`, kubeConfig: certificateKubeConfig(adminConfig, `system:node:${nodeCredential.nodeName}`, nodeCredential) };
      continue;
    }
    const [namespace = '', account = ''] = (identity.serviceAccount ?? identity.secretToken ?? '').split('/');
    if (identity.serviceAccount) {
      // Bind the token to a pod running as this account, as the kubelet would, so the audit
      // log's user.extra names the pod (authentication.kubernetes.io/pod-name).
      const pod = pods.find((p) => p.namespace === namespace && p.serviceAccount === account);
      const response = await callApi(admin(adminConfig), {
        method: 'POST',
        path: resourcePath('v1', 'ServiceAccount', namespace, account, 'token'),
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            expirationSeconds: 3600 * 4,
            ...(pod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } } : {}),
          },
        },
      });
      const token = (response.body as { status?: { token?: string } } | undefined)?.status?.token;
      if (!token) throw new Error(`could not get a token for service account ${namespace}/${account} (HTTP ${response.status})`);
      const username = `system:serviceaccount:${namespace}:${account}`;
      resolved[name] = { username, token, kubeConfig: tokenKubeConfig(adminConfig, username, token) };
    } else {
      const response = await callApi(admin(adminConfig), { method: 'GET', path: resourcePath('v1', 'Secret', namespace, account) });
      const secret = response.body as { data?: { token?: string }; metadata?: { annotations?: Record<string, string> } } | undefined;
      const token = secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : undefined;
      const owner = secret?.metadata?.annotations?.['kubernetes.io/service-account.name'];
      if (!token || !owner) throw new Error(`secret ${namespace}/${account} holds no service-account token`);
      const username = `system:serviceaccount:${namespace}:${owner}`;
      resolved[name] = { username, token, kubeConfig: tokenKubeConfig(adminConfig, username, token) };
    }
  }
  return resolved;
}

/** A node's kubelet client credential (PEM), as the attacker copied it from the node. */
export interface NodeCredential {
  nodeName: string;
  certificate: string;
  key: string;
}

function certificateKubeConfig(admin: KubeConfig, user: string, credential: NodeCredential): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(cluster, { name: user, certData: Buffer.from(credential.certificate).toString('base64'), keyData: Buffer.from(credential.key).toString('base64') });
  return kc;
}

export interface StepOutcome {
  /** Index of the step in the scenario file (steps with forEach share it). */
  index: number;
  step: ScenarioStep;
  /** The step as made, placeholders filled. */
  request: ScenarioStep['request'];
  username: string;
  sourceIP: string;
  status: number;
  auditId: string | undefined;
  allowed: boolean;
  /** When the request was sent (the seeder's clock; the audit event has the server's). */
  at: Date;
}

/** Expands forEach and fills placeholders: the concrete requests, in order. */
export function expandTimeline(timeline: ScenarioStep[], values: Record<string, ParamValue>) {
  return timeline.flatMap((step, index) => {
    const items = step.forEach ? [values[step.forEach]].flat() : [undefined];
    return items.map((item) => {
      const scope = item === undefined ? values : { ...values, item };
      return { index, step, from: step.from === 'pod' ? String(values.compromisedPodIp) : String(fill(step.from, scope)), request: fill(step.request, scope) };
    });
  });
}

export function toApiRequest(request: ScenarioStep['request'], container?: string): ApiRequest {
  const { verb, apiVersion, kind, namespace, name, body } = request;
  if (request.path !== undefined) return { method: 'GET', path: request.path };
  const path = resourcePath(apiVersion, kind, namespace, name);
  switch (verb) {
    case 'get':
    case 'list':
      return { method: 'GET', path };
    case 'delete':
      return { method: 'DELETE', path };
    case 'create':
      return { method: 'POST', path, body: { apiVersion, kind, ...body, metadata: { namespace, ...(body?.metadata as object) } } };
    case 'patch':
      return { method: 'PATCH', path, body, contentType: 'application/merge-patch+json' };
    case 'exec':
      // A POST with an upgrade to SPDY, as kubectl before 1.30 and most attack tooling do: the
      // audit log records `create` on pods/exec (WebSocket clients would show up as `get`).
      return {
        method: 'POST',
        path: resourcePath(apiVersion, kind, namespace, name, 'exec'),
        query: [
          ...(request.command ?? []).map((part): [string, string] => ['command', part]),
          ...(container ? [['container', container] as [string, string]] : []),
          ['stdout', 'true'],
          ['stderr', 'true'],
        ],
        // A real kubelet (kind) answers an exec that accepts only JSON with 406: accept anything, as kubectl does.
        headers: { Accept: '*/*', Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' },
      };
  }
}

/** The scale `irlab test`, the integration tests and the e2e server seed with: a ten-minute
 * incident in about a second. */
export const TEST_TIME_SCALE = 0.002;

/** IRLAB_SCENARIO_TIME_SCALE: how much of each timeline pause is really waited (1 = as written;
 * tests use a small scale so a ten-minute incident seeds in seconds). */
export function scenarioTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.IRLAB_SCENARIO_TIME_SCALE;
  if (raw === undefined || raw.trim() === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale < 0) throw new Error(`IRLAB_SCENARIO_TIME_SCALE must be a number >= 0, not "${raw}"`);
  return scale;
}

/**
 * IRLAB_SCENARIO_WAITING_TIME_SCALE (0.02): the scale of a seeding somebody is waiting for (a
 * Start that found no incident seeded ahead of time, a drill being created). An incident of ten
 * minutes then unfolds in about twelve seconds: still in order and spaced, and the learner is
 * not kept waiting the whole dwell time. Never slower than IRLAB_SCENARIO_TIME_SCALE.
 */
export function waitingTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.IRLAB_SCENARIO_WAITING_TIME_SCALE;
  const waiting = raw === undefined || raw.trim() === '' ? 0.02 : Number(raw);
  if (!Number.isFinite(waiting) || waiting < 0) throw new Error(`IRLAB_SCENARIO_WAITING_TIME_SCALE must be a number >= 0, not "${raw}"`);
  return Math.min(waiting, scenarioTimeScale(env));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason instanceof Error ? signal!.reason : new Error('seeding aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface TimelineOptions {
  onStep?: (outcome: StepOutcome) => void;
  /** Multiplies every `after` pause (default 1). */
  timeScale?: number;
  /** Stops the timeline between (or during the pauses of) steps. */
  signal?: AbortSignal;
}

/**
 * RBAC changes reach the authorizer through an informer, a few milliseconds after the write. A
 * step that relies on a binding made earlier and is refused anyway is made again, by the same
 * identity, a moment later, as a real attacker would retry. Asking SubjectAccessReview as the
 * admin instead would put seeding traffic in the middle of the attack.
 */
const RBAC_RETRY_MS = 100;
const RBAC_RETRY_FOR_MS = 5_000;

export async function runTimeline(
  scenario: Scenario,
  values: Record<string, ParamValue>,
  identities: Record<string, IdentityCredentials>,
  pods: PodSummary[],
  options: TimelineOptions = {},
): Promise<StepOutcome[]> {
  const { onStep, timeScale = 1, signal } = options;
  const outcomes: StepOutcome[] = [];
  let rbacChanged = false;
  for (const { index, step, from, request } of expandTimeline(scenario.timeline, values)) {
    const identity = identities[step.as];
    if (!identity) throw new Error(`timeline[${index}]: no identity ${step.as}`);
    await pause(step.after ? durationMs(step.after) * timeScale : 0, signal);
    const caller: Caller = { kubeConfig: identity.kubeConfig, forwardedFor: from, userAgent: step.userAgent };
    const container = pods.find((p) => p.namespace === request.namespace && p.name === request.name)?.containers[0];
    const retryUntil = Date.now() + RBAC_RETRY_FOR_MS;
    let at = new Date();
    let response: ApiResponse = await callApi(caller, toApiRequest(request, container));
    while (rbacChanged && step.expect === 'allowed' && response.status === 403 && Date.now() < retryUntil) {
      await pause(RBAC_RETRY_MS, signal);
      at = new Date();
      response = await callApi(caller, toApiRequest(request, container));
    }
    const allowed = response.status !== 401 && response.status !== 403;
    const outcome: StepOutcome = { index, step, request, username: identity.username, sourceIP: from, status: response.status, auditId: response.auditId, allowed, at };
    if ((step.expect === 'allowed' && (!allowed || response.status >= 400)) || (step.expect === 'denied' && allowed)) {
      const message = (response.body as { message?: string } | undefined)?.message ?? '';
      const what = request.path ?? `${request.kind} ${request.namespace ?? ''}/${request.name ?? ''}`;
      throw new Error(`timeline[${index}] (${step.as} ${request.verb} ${what}) was expected to be ${step.expect} but the API server answered ${response.status} ${message}`.trim());
    }
    outcomes.push(outcome);
    rbacChanged ||= request.apiVersion.startsWith('rbac.authorization.k8s.io/') && ['create', 'patch', 'delete'].includes(request.verb);
    onStep?.(outcome);
  }
  return outcomes;
}
