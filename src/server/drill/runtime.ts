/**
 * What a drill does to its cluster: claim one and seed the scenario, evaluate a lab step's checks,
 * run live attacker actions, hand each participant a kubeconfig with a certificate of their own
 * (responders.ts), read the audit log. Everything goes through the same code as labs and seeding (ClusterSource, seedScenario,
 * the lab checks, timeline.ts's requests with the identity's own credentials), so an attack
 * inject is a real request that the real API server authenticates, authorizes and audits.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { CheckResult } from '../../lib/check-result.ts';
import type { ScenarioStep } from '../../schemas/scenario.ts';
import { readAuditLog } from '../cluster/audit-log.ts';
import { issueClientCertificate } from '../cluster/client-cert.ts';
import { loadKubeConfig } from '../cluster/kube.ts';
import { LEARNER_GROUP } from '../cluster/learner-policy.ts';
import { learnerAccessOf, type AuditEvent, type ClusterInfo } from '../cluster/types.ts';
import { findCluster, stepGrader } from '../grading/grade.ts';
import type { ClusterSource } from '../lab/cluster-source.ts';
import { readAnswerKey, type AnswerKey } from '../scenarios/answer-key.ts';
import { callApi, tokenKubeConfig, type ApiResponse } from '../scenarios/kube-request.ts';
import type { ParamValue } from '../scenarios/params.ts';
import type { Scenario } from '../../schemas/scenario.ts';
import { seedScenario } from '../scenarios/seed.ts';
import { expandTimeline, resolveIdentities, toApiRequest, waitingTimeScale } from '../scenarios/timeline.ts';
import { listRunningPods, matches } from '../scenarios/world.ts';
import { flattenKubeconfig } from '../terminal/kubeconfig.ts';
import type { LoadedDrill } from './load.ts';
import { ensureResponderRbac, RESPONDER_GROUP, responderUsername } from './responders.ts';

export interface AttackOutcome {
  technique: string | null;
  note: string | null;
  username: string;
  sourceIP: string;
  userAgent: string;
  verb: string;
  kind: string;
  namespace: string | null;
  name: string | null;
  /** HTTP status; 0 when the request could not be made (e.g. the stolen credential is gone). */
  status: number;
  auditId: string | null;
  error: string | null;
}

export interface DrillRuntime {
  /** Claims a cluster and seeds the scenario; returns the cluster's name. */
  prepare(drill: LoadedDrill, seed: string, onProgress: (message: string) => void): Promise<string>;
  /** Is the cluster still there (after a restart the pool may have deleted it)? */
  exists(clusterName: string): Promise<boolean>;
  /** The scenario's placeholder values for this cluster's incident (params, compromised pod, targets). */
  values(clusterName: string, drill: LoadedDrill): Promise<Record<string, ParamValue>>;
  /**
   * Runs one lab step's checks through the shared grading path; `workspaces` are the
   * participants' (best one wins for workspace checks); `signal` cancels them (the drill ended).
   */
  evaluate(clusterName: string, drill: LoadedDrill, stepId: string, workspaces: string[], answers: Record<string, string>, signal?: AbortSignal): Promise<CheckResult>;
  /** Runs attack steps as their identities; never throws for a refused or failed request. */
  attack(clusterName: string, drill: LoadedDrill, steps: ScenarioStep[]): Promise<AttackOutcome[]>;
  /**
   * A kubeconfig file for one participant: the cluster's address and CA, and a client certificate
   * of their own (`responderUsername`), never the admin credential.
   */
  participantKubeconfig(clusterName: string, drillId: string, participant: { id: string; name: string }): Promise<string>;
  auditEvents(clusterName: string): Promise<AuditEvent[]>;
  /** Where the cluster's API server writes its audit log (the participants' Audit log tab queries it). */
  auditLogPath(clusterName: string): Promise<string>;
  answerKey(clusterName: string): Promise<AnswerKey>;
  release(clusterName: string): Promise<void>;
}

export interface LiveRuntimeOptions {
  clusters: ClusterSource;
  answerKeys: string;
  /** Where per-participant kubeconfigs go (under the data dir, never in a workspace). */
  stateDir: string;
  /** An empty directory used as the workspace when nobody has one yet. */
  emptyWorkspace: string;
  checkTimeoutMs?: number;
}

/** A participant kubeconfig written earlier is reused while it names this cluster and user and has a day left. */
function stillGood(text: string, cluster: string, username: string): boolean {
  try {
    const config = parse(text) as { clusters?: Array<{ name?: string }>; users?: Array<{ name?: string; user?: Record<string, unknown> }> };
    const user = config.users?.[0];
    if (config.clusters?.[0]?.name !== cluster || user?.name !== username) return false;
    const certificate = new X509Certificate(Buffer.from(String(user.user?.['client-certificate-data']), 'base64'));
    return certificate.validToDate.getTime() - Date.now() > 24 * 3600_000;
  } catch {
    return false;
  }
}

export function liveRuntime(options: LiveRuntimeOptions): DrillRuntime {
  const { clusters } = options;
  const grade = stepGrader({ provider: clusters.provider, answerKeys: options.answerKeys, checkTimeoutMs: options.checkTimeoutMs });
  /**
   * Each cluster's responder role and binding, made once on the first participant's kubeconfig.
   * A promise, not a flag: two participants opening terminals at once must share one creation,
   * or the second's upsert races the first's and the API server refuses it (422, no resourceVersion).
   */
  const rbacReady = new Map<string, Promise<void>>();

  async function clusterOf(name: string): Promise<ClusterInfo> {
    const found = await findCluster(clusters.provider, name);
    if (!found) throw new Error(`the drill's cluster ${name} is gone (the server restarted or the cluster was deleted)`);
    return found;
  }

  async function values(name: string, drill: LoadedDrill): Promise<Record<string, ParamValue>> {
    const cluster = await clusterOf(name);
    const key = await readAnswerKey(options.answerKeys, name);
    const values: Record<string, ParamValue> = { ...key.params, compromisedPod: key.compromisedPod.name, compromisedPodIp: key.compromisedPod.ip };
    const pods = await listRunningPods(loadKubeConfig(cluster.kubeconfigPath));
    for (const [target, lookup] of Object.entries(drill.scenario.scenario.targets)) {
      const pod = pods.find((p) => matches(p, lookup.namespace, lookup.selector));
      values[target] = pod?.name ?? `${target}-gone`;
    }
    return values;
  }

  return {
    async prepare(drill, seed, onProgress) {
      const cluster = await clusters.acquire(onProgress);
      try {
        onProgress('seeding the incident');
        // The facilitator is waiting and the drill clock brings its own pace: the waiting scale.
        await seedScenario(cluster, drill.scenario, { seed, answerKeys: options.answerKeys, timeScale: waitingTimeScale(), onProgress: (m) => onProgress(`seeding: ${m.trim()}`) });
        const learnerAccess = learnerAccessOf(clusters.provider);
        if (learnerAccess) {
          // A real node (kind): the boundary is armed before any participant holds a credential.
          onProgress('arming the learner boundary');
          await learnerAccess(cluster.name);
        }
        return cluster.name;
      } catch (error) {
        await clusters.release(cluster.name);
        throw error;
      }
    },

    async exists(name) {
      return (await clusters.provider.list()).some((c) => c.name === name);
    },

    values,

    async evaluate(name, drill, stepId, workspaces, answers, signal) {
      const step = drill.lab.lab.steps.find((s) => s.id === stepId);
      if (!step) throw new Error(`lab ${drill.lab.slug} has no step ${stepId}`);
      // A participant who never opened a terminal has no workspace yet.
      const present = workspaces.filter((dir) => existsSync(dir));
      return grade({
        cluster: await clusterOf(name),
        step,
        workspaces: present.length ? present : [options.emptyWorkspace],
        answers,
        // A drill has no Apply: drill validation refuses a scored step whose check needs one.
        appliedPolicySha256: undefined,
        signal,
      });
    },

    async attack(name, drill, steps) {
      const cluster = await clusterOf(name);
      const admin = loadKubeConfig(cluster.kubeconfigPath);
      const scope = await values(name, drill);
      const pods = await listRunningPods(admin);
      const key = await readAnswerKey(options.answerKeys, name).catch(() => undefined);
      const outcomes: AttackOutcome[] = [];
      for (const { step, from, request } of expandTimeline(steps, scope)) {
        const base = {
          technique: step.technique ?? null, note: step.note ?? null, sourceIP: from, userAgent: step.userAgent,
          verb: request.verb, kind: request.kind, namespace: request.namespace ?? null, name: request.name ?? null,
        };
        const identity = drill.scenario.scenario.identities[step.as];
        try {
          if (!identity) throw new Error(`no identity ${step.as}`);
          // The attacker holds the tokens they stole at seeding: a revoked token stops them, a
          // re-created pod or a rotated Secret hands them no new one. Other identities resolve now.
          const resolved = stolenCredential(admin, key, identity) ?? (await resolveIdentities(admin, { [step.as]: identity }, pods))[step.as]!;
          const container = pods.find((p) => p.namespace === request.namespace && p.name === request.name)?.containers[0];
          const response: ApiResponse = await callApi({ kubeConfig: resolved.kubeConfig, forwardedFor: from, userAgent: step.userAgent }, toApiRequest(request, container));
          outcomes.push({ ...base, username: resolved.username, status: response.status, auditId: response.auditId ?? null, error: null });
        } catch (error) {
          outcomes.push({ ...base, username: step.as, status: 0, auditId: null, error: error instanceof Error ? error.message : String(error) });
        }
      }
      return outcomes;
    },

    async participantKubeconfig(name, drillId, participant) {
      const cluster = await clusterOf(name);
      const username = responderUsername(participant);
      const dir = path.join(options.stateDir, drillId);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `kubeconfig-${participant.id}`);
      // Issued once per participant and cluster; a terminal reopened later gets the same file.
      const existing = await readFile(file, 'utf8').catch(() => undefined);
      if (existing && stillGood(existing, name, username)) return file;
      let rbac = rbacReady.get(name);
      if (!rbac) {
        rbac = ensureResponderRbac(loadKubeConfig(cluster.kubeconfigPath));
        rbacReady.set(name, rbac);
        // A failed creation is tried again by the next participant.
        rbac.catch(() => rbacReady.delete(name));
      }
      await rbac;
      // On a real node (kind) a participant is also a learner, so every learner policy holds them;
      // the cluster's own signer issues it there (its CA key stays inside the node).
      const { provider } = clusters;
      let issued;
      if (provider.capabilities.learnerCredential) {
        if (!provider.boundedCertificate) throw new Error(`cluster provider ${provider.name} gives learners a credential but cannot issue a participant's`);
        issued = await provider.boundedCertificate(name, { user: username, groups: [RESPONDER_GROUP, LEARNER_GROUP] }, { days: 3 });
      } else {
        issued = await issueClientCertificate(cluster, { user: username, groups: [RESPONDER_GROUP] }, { workDir: dir, days: 3 });
      }
      // The admin kubeconfig gives only the API server's address and CA; its user is dropped.
      const admin = parse(await flattenKubeconfig(cluster.kubeconfigPath)) as { clusters: Array<{ cluster: Record<string, unknown> }> };
      const config = {
        apiVersion: 'v1', kind: 'Config', 'current-context': 'drill', preferences: {},
        clusters: [{ name, cluster: admin.clusters[0]!.cluster }],
        users: [{ name: username, user: { 'client-certificate-data': Buffer.from(issued.certificatePem).toString('base64'), 'client-key-data': Buffer.from(issued.keyPem).toString('base64') } }],
        contexts: [{ name: 'drill', context: { cluster: name, user: username } }],
      };
      const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temporary, stringify(config), { mode: 0o600 });
      await rename(temporary, file);
      return file;
    },

    async auditEvents(name) {
      const cluster = await clusterOf(name);
      const events: AuditEvent[] = [];
      for await (const event of readAuditLog(cluster.auditLogPath)) if (event.stage === 'ResponseComplete' || event.stage === 'Panic') events.push(event);
      return events;
    },

    auditLogPath: async (name) => (await clusterOf(name)).auditLogPath,

    answerKey: (name) => readAnswerKey(options.answerKeys, name),

    release: (name) => clusters.release(name),
  };
}

/** The token the attacker stole for this identity at seeding (answer key), if they stole one. */
function stolenCredential(admin: KubeConfig, key: AnswerKey | undefined, identity: Scenario['identities'][string]) {
  if (!key) return undefined;
  const stolen = identity.secretToken
    ? key.tokenCredentials?.find((c) => c.secret === identity.secretToken)
    : identity.serviceAccount
      ? key.scope?.boundTokens.find((t) => t.username === `system:serviceaccount:${identity.serviceAccount!.replace('/', ':')}`)
      : undefined;
  return stolen ? { username: stolen.username, kubeConfig: tokenKubeConfig(admin, stolen.username, stolen.token) } : undefined;
}
