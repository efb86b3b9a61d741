/**
 * The live audit-policy check: send the canonical requests to a cluster whose API server runs
 * the learner's policy, then read back what the API server recorded for each one (an event per
 * recorded stage, none at level None). The verdict comes from the log, not from our evaluator;
 * the evaluator, when the policy text is given, only names the rule that matched.
 *
 * Probes run as a service account (a fresh token for default/default) and as the admin, with
 * PROBE_SOURCE_IP in X-Forwarded-For; every write is a dry run, so nothing in the cluster
 * changes. Each probe's event is found by the Audit-Id header of its response.
 *
 * Then the identity sweep: a sample of the attacker-shaped probes again, as service accounts of
 * the cluster's other namespaces (kube-system's controllers included), each with a fresh token and
 * the same marks. A policy that exempts an identity shows up here as a probe that left no event
 * (or one below its minimum) where default/default's was recorded.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { CheckResult } from '../../lib/check-result.ts';
import { predict } from '../../lib/audit-policy/check.ts';
import {
  CANONICAL_REQUESTS,
  PROBE_SOURCE_IP,
  PROBE_USER_AGENT,
  type CanonicalIdentities,
  type CanonicalRequest,
  type ProbeIdentity,
} from '../../lib/audit-policy/canonical.ts';
import { describeRule } from '../../lib/audit-policy/describe.ts';
import { gradeOutcomes, type BlindedRow, type RowOutcome } from '../../lib/audit-policy/grade.ts';
import type { Identity } from '../../lib/audit-policy/request-info.ts';
import { atLeast } from '../../lib/audit-policy/types.ts';
import { AUDIT_STAGES, type AuditDecision, type AuditLevel, type AuditStage } from '../../lib/audit-policy/types.ts';
import { loadPolicy } from '../../lib/audit-policy/validate.ts';
import { evaluatePolicy } from '../../lib/audit-policy/evaluate.ts';
import { requestAttributes } from '../../lib/audit-policy/request-info.ts';
import { auditLogEnd } from '../cluster/audit-log.ts';
import { abortableKubeConfig } from '../cluster/abortable-kube-config.ts';
import { loadKubeConfig } from '../cluster/kube.ts';
import { systemClock, type Clock } from '../cluster/runtime.ts';
import type { AuditEvent, ClusterInfo, ClusterProvider } from '../cluster/types.ts';
import { callApi, tokenKubeConfig, type ApiRequest, type Caller } from '../scenarios/kube-request.ts';

export interface LiveCheckOptions {
  cluster: ClusterInfo;
  provider: ClusterProvider;
  /** The policy the API server runs with; lets messages name the matching rule. */
  policyText?: string;
  /** Defaults to all canonical requests (the differential test passes its own). */
  requests?: readonly CanonicalRequest[];
  clock?: Clock;
  /** Quiet time after which the probes' events count as all written (default 150 ms). */
  settleMs?: number;
  /** Parallel probes. */
  concurrency?: number;
  /** Most service accounts the identity sweep probes as (default 16; 0 turns the sweep off). */
  sweepLimit?: number;
  /** Cancels the probes, the waits and the reads (a check out of time). */
  signal?: AbortSignal;
}

/** The attacker-shaped probes the sweep repeats as each other service account. */
export const SWEEP_PROBE_IDS = ['get-secret', 'list-secrets', 'create-clusterrolebinding', 'exec-post', 'create-token', 'list-pods', 'create-pod-kube-system'] as const;

export interface SweepProbe {
  request: CanonicalRequest;
  identity: Identity;
  status: number;
  level: AuditLevel;
}

export interface RecordedProbe {
  request: CanonicalRequest;
  status: number;
  auditId?: string;
  /** The level on the recorded events; None when there were none. */
  level: AuditLevel;
  stages: AuditStage[];
  /** What the evaluator predicts, when the policy text was given and accepted. */
  predicted?: AuditDecision;
}

export interface LiveCheck {
  result: CheckResult;
  probes: RecordedProbe[];
  identities: CanonicalIdentities;
  /** Probes whose recorded level the evaluator did not predict (should always be empty). */
  disagreements: RecordedProbe[];
  /** The identity sweep's probes, as other service accounts. */
  sweep: SweepProbe[];
  timings: { probesMs: number; totalMs: number };
}

export async function liveCheckAuditPolicy(options: LiveCheckOptions): Promise<LiveCheck> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const { signal } = options;
  // Abortable: every probe (callApi) and every token identity derived from it stops with `signal`.
  const admin = signal ? abortableKubeConfig(options.cluster.kubeconfigPath, signal) : loadKubeConfig(options.cluster.kubeconfigPath);
  const from = await auditLogEnd(options.cluster.auditLogPath);
  const callers = await probeCallers(admin, clock, signal);
  const identities = { serviceAccount: await whoAmI(callers.serviceAccount), admin: await whoAmI(callers.admin) };

  const requests = options.requests ?? CANONICAL_REQUESTS;
  const probesStarted = clock.now();
  const sent = await mapLimit(requests, options.concurrency ?? 8, async (request) => {
    const response = await callApi(callers[request.as], toApiRequest(request));
    return { request, status: response.status, auditId: response.auditId };
  });
  const sweepRequests = requests.filter((r) => (SWEEP_PROBE_IDS as readonly string[]).includes(r.id));
  const sweepCallers = sweepRequests.length ? await sweepServiceAccounts(callers.admin, admin, options.sweepLimit ?? 16) : [];
  const jobs = sweepCallers.flatMap((c) => sweepRequests.map((request) => ({ ...c, request })));
  const swept = await mapLimit(jobs, options.concurrency ?? 8, async (job) => {
    const response = await callApi(job.caller, toApiRequest(job.request));
    return { request: job.request, identity: job.identity, status: response.status, auditId: response.auditId };
  });
  const probesMs = clock.now() - probesStarted;
  const ids = new Set([...sent, ...swept].flatMap((s) => (s.auditId ? [s.auditId] : [])));
  const byAuditId = await settledEvents(options, clock, from, ids);

  const loaded = options.policyText === undefined ? undefined : loadPolicy(options.policyText);
  const policy = loaded?.policy;
  const probes: RecordedProbe[] = sent.map((s) => {
    const events = (s.auditId && byAuditId.get(s.auditId)) || [];
    const stages = AUDIT_STAGES.filter((stage) => events.some((e) => e.stage === stage));
    const probe: RecordedProbe = { ...s, level: events[0]?.level ?? 'None', stages };
    if (policy) probe.predicted = predict(policy, s.request, identities).decision;
    return probe;
  });
  const disagreements = probes.filter((p) => p.predicted && p.predicted.level !== p.level && p.stages.length > 0);

  const outcomes = new Map<string, RowOutcome>();
  for (const p of probes) {
    // Name the rule only when the evaluator agrees with what was recorded.
    const agrees = p.predicted && (p.predicted.level === p.level || (p.stages.length === 0 && p.level === 'None'));
    outcomes.set(p.request.id, {
      level: p.level,
      ...(agrees ? { rule: p.predicted!.rule } : {}),
      requestReceivedLogged: p.stages.includes('RequestReceived'),
      user: identities[p.request.as].user,
    });
  }
  const sweep: SweepProbe[] = swept.map((s) => ({ request: s.request, identity: s.identity, status: s.status, level: ((s.auditId && byAuditId.get(s.auditId)) || [])[0]?.level ?? 'None' }));
  // Identity-specific shortfalls only: where default/default's probe met the minimum and this one did not.
  const blinded: BlindedRow[] = sweep
    .filter((p) => p.request.minimum && !atLeast(p.level, p.request.minimum) && atLeast(outcomes.get(p.request.id)?.level ?? 'None', p.request.minimum))
    .map((p) => {
      const predicted = policy ? evaluatePolicy(policy, requestAttributes({ method: p.request.method, path: p.request.path }, p.identity)) : undefined;
      const rule = predicted && predicted.level === p.level ? { rule: predicted.rule } : {};
      return { request: p.request, kind: 'service account' as const, outcome: { level: p.level, ...rule, requestReceivedLogged: false, user: p.identity.user } };
    });
  const graded = gradeOutcomes(
    outcomes,
    { mode: 'live', ...(policy ? { describeRule: (i: number) => describeRule(policy, i) } : {}) },
    'the API server runs with the policy',
    requests,
    blinded,
  );
  return { result: graded.result, probes, identities, disagreements, sweep, timings: { probesMs, totalMs: clock.now() - started } };
}

type Callers = Record<ProbeIdentity, Caller>;

async function probeCallers(admin: KubeConfig, clock: Clock, signal: AbortSignal | undefined): Promise<Callers> {
  const adminCaller: Caller = { kubeConfig: admin, forwardedFor: PROBE_SOURCE_IP, userAgent: PROBE_USER_AGENT };
  const tokenRequest: ApiRequest = {
    method: 'POST',
    path: '/api/v1/namespaces/default/serviceaccounts/default/token',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  };
  // A fresh cluster's controller-manager creates the default service account a moment after start.
  for (let attempt = 0; ; attempt++) {
    const response = await callApi(adminCaller, tokenRequest);
    const token = (response.body as { status?: { token?: string } } | undefined)?.status?.token;
    if (response.status === 201 && token) {
      return {
        admin: adminCaller,
        serviceAccount: { kubeConfig: tokenKubeConfig(admin, 'irlab-probe', token), forwardedFor: PROBE_SOURCE_IP, userAgent: PROBE_USER_AGENT },
      };
    }
    if (response.status !== 404 || attempt >= 20) {
      throw new Error(`could not get a token for the probe service account default/default: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
    }
    await clock.sleep(250, signal);
  }
}

/**
 * Service accounts to probe as: every one outside kube-system that is not a namespace's default
 * (the workloads' own identities, whichever namespace), two of kube-system's controllers, then the
 * other namespaces' defaults, up to `limit`. Each gets a fresh short-lived token; one that cannot
 * (deleted meanwhile) is skipped.
 */
async function sweepServiceAccounts(adminCaller: Caller, admin: KubeConfig, limit: number): Promise<Array<{ caller: Caller; identity: Identity }>> {
  if (limit <= 0) return [];
  const listed = await callApi(adminCaller, { method: 'GET', path: '/api/v1/serviceaccounts' });
  const items = (listed.body as { items?: Array<{ metadata?: { name?: string; namespace?: string } }> } | undefined)?.items ?? [];
  const all = items.flatMap((i) => (i.metadata?.name && i.metadata.namespace ? [{ namespace: i.metadata.namespace, name: i.metadata.name }] : []));
  const isSystem = (ns: string) => ns.startsWith('kube-');
  const workloads = all.filter((a) => !isSystem(a.namespace) && a.name !== 'default');
  const controllers = all.filter((a) => a.namespace === 'kube-system' && a.name.endsWith('-controller')).slice(0, 2);
  const defaults = all.filter((a) => !isSystem(a.namespace) && a.name === 'default' && a.namespace !== 'default');
  const chosen = [...workloads, ...controllers, ...defaults].slice(0, limit);
  const out: Array<{ caller: Caller; identity: Identity }> = [];
  for (const account of chosen) {
    const response = await callApi(adminCaller, {
      method: 'POST',
      path: `/api/v1/namespaces/${account.namespace}/serviceaccounts/${account.name}/token`,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    });
    const token = (response.body as { status?: { token?: string } } | undefined)?.status?.token;
    if (response.status !== 201 || !token) continue;
    out.push({
      caller: { kubeConfig: tokenKubeConfig(admin, 'irlab-probe', token), forwardedFor: PROBE_SOURCE_IP, userAgent: PROBE_USER_AGENT },
      identity: {
        user: `system:serviceaccount:${account.namespace}:${account.name}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${account.namespace}`, 'system:authenticated'],
      },
    });
  }
  return out;
}

/** The user and groups the API server sees for a caller (SelfSubjectReview, Kubernetes 1.28+). */
async function whoAmI(caller: Caller): Promise<{ user: string; groups: string[] }> {
  const response = await callApi(caller, {
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  const info = (response.body as { status?: { userInfo?: { username?: string; groups?: string[] } } } | undefined)?.status?.userInfo;
  if (response.status !== 201 || !info?.username) throw new Error(`SelfSubjectReview failed: HTTP ${response.status}`);
  return { user: info.username, groups: info.groups ?? [] };
}

function toApiRequest(request: CanonicalRequest): ApiRequest {
  const url = new URL(request.path, 'https://apiserver.invalid');
  return {
    method: request.method,
    path: url.pathname,
    query: [...url.searchParams.entries()],
    ...(request.body === undefined ? {} : { body: request.body }),
    ...(request.contentType ? { contentType: request.contentType } : {}),
  };
}

/**
 * The API server writes a request's ResponseComplete event after its handler returns, which for a
 * large response (discovery) can be after the client has read it all. There is no event to wait
 * for at level None, so read until the probes' events stop changing.
 */
async function settledEvents(options: LiveCheckOptions, clock: Clock, from: number, ids: ReadonlySet<string>): Promise<Map<string, AuditEvent[]>> {
  const settleMs = options.settleMs ?? 150;
  const deadline = clock.now() + 3_000;
  await clock.sleep(settleMs, options.signal);
  let events = await recordedEvents(options, from, ids);
  for (;;) {
    await clock.sleep(settleMs, options.signal);
    const again = await recordedEvents(options, from, ids);
    if (count(again) === count(events) || clock.now() > deadline) return again;
    events = again;
  }
}

function count(events: ReadonlyMap<string, AuditEvent[]>): number {
  let n = 0;
  for (const list of events.values()) n += list.length;
  return n;
}

async function recordedEvents(options: LiveCheckOptions, from: number, ids: ReadonlySet<string>): Promise<Map<string, AuditEvent[]>> {
  const out = new Map<string, AuditEvent[]>();
  for await (const event of options.provider.auditLog(options.cluster.name, { fromOffset: from, ...(options.signal ? { signal: options.signal } : {}) })) {
    if (!ids.has(event.auditID)) continue;
    const list = out.get(event.auditID) ?? [];
    list.push(event);
    out.set(event.auditID, list);
  }
  // The reader ends quietly on abort: a cut-short read is no set of events to grade.
  options.signal?.throwIfAborted();
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
