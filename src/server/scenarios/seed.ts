/**
 * Seeds a scenario into a running cluster, as ordered steps with progress: build the world, wait
 * for it to settle, get every identity's credentials, run the timeline, write the compromised
 * pod's files and log, then read the audit log back and write the answer key.
 */
import path from 'node:path';
import { capabilitiesOf, type ClusterInfo, type AuditEvent } from '../cluster/types.ts';
import { auditLogEnd, readAuditLog } from '../cluster/audit-log.ts';
import { loadKubeConfig } from '../cluster/kube.ts';
import { podOwner } from '../cluster/pod-tree.ts';
import { answerKeyDir, buildAnswerKey, readAnswerKey, writeAnswerKey, type AnswerKey } from './answer-key.ts';
import type { LoadedScenario } from './load.ts';
import { resolveParams, seededRandom, type ParamValue } from './params.ts';
import { podDir, writeContainerLog, writeEvidenceOnNode, writeNodeEvidence, writePodTree } from './pod-evidence.ts';
import { fill, fillString } from './template.ts';
import { containerIdOf, forRealNodes, imagesIn, kindNodeOf, kubeletCredentialOf, provideImages } from '../cluster/kind-workloads.ts';
import { durationMs } from '../../schemas/scenario.ts';
import { noteScope } from './scope-key.ts';
import { pause, resolveIdentities, runTimeline, scenarioTimeScale, type StepOutcome } from './timeline.ts';
import { applyWorld, listRunningPods, matches, reachableSecrets, waitForSettled } from './world.ts';

/** Kinds a create answers without storing (reviews, token requests): no attacker persistence. */
const EPHEMERAL_KINDS = new Set(['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'TokenReview', 'TokenRequest']);

export interface SeedOptions {
  /** The learner's seed: the same seed gives the same incident. */
  seed: string;
  /** Where answer keys go; default `$IRLAB_DATA_DIR/answer-keys`. */
  answerKeys?: string;
  onProgress?: (message: string) => void;
  now?: () => Date;
  /** How much of the timeline's pauses is really waited; default IRLAB_SCENARIO_TIME_SCALE or 1. */
  timeScale?: number;
  /** Aborts seeding (server shutdown, lab reset): it stops at the next step or pause. */
  signal?: AbortSignal;
}

export interface SeedResult {
  answerKey: AnswerKey;
  answerKeyFile: string;
  durationMs: number;
  /** Milliseconds per phase, for the benchmark and the CLI's report. */
  phases: Record<string, number>;
  outcomes: StepOutcome[];
}

/** Does this audit event record this step? For responses without an Audit-Id header
 * (streaming endpoints proxied to the node) the request's identity, address and target decide. */
function records(event: AuditEvent, outcome: StepOutcome): boolean {
  if (outcome.auditId) return event.auditID === outcome.auditId;
  const { request } = outcome;
  const verb = request.verb === 'exec' ? 'create' : request.verb;
  return (
    event.user.username === outcome.username &&
    event.sourceIPs?.[0] === outcome.sourceIP &&
    event.verb === verb &&
    (event.objectRef?.namespace ?? '') === (request.namespace ?? '') &&
    (event.objectRef?.name ?? '') === (request.name ?? '') &&
    (request.verb !== 'exec' || event.objectRef?.subresource === 'exec')
  );
}

/** Waits until the audit log holds an event for every step, and returns them by step. */
async function auditEventsFor(logPath: string, fromOffset: number, outcomes: StepOutcome[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events: AuditEvent[] = [];
    for await (const event of readAuditLog(logPath, { fromOffset })) {
      if (event.stage === 'ResponseComplete' || event.stage === 'Panic') events.push(event);
    }
    const found = new Map<StepOutcome, AuditEvent>();
    for (const outcome of outcomes) {
      const event = events.find((e) => records(e, outcome));
      if (event) found.set(outcome, event);
    }
    if (found.size === outcomes.length) return found;
    if (Date.now() > deadline) {
      const missing = outcomes.filter((o) => !found.has(o));
      throw new Error(
        `the audit log lacks ${missing.length} of the timeline's events (first: timeline[${missing[0]!.index}]); ` +
          'does the audit policy log these requests at None?',
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function seedScenario(cluster: ClusterInfo, loaded: LoadedScenario, options: SeedOptions): Promise<SeedResult> {
  const { scenario, slug, dir } = loaded;
  const now = options.now ?? (() => new Date());
  const progress = options.onProgress ?? (() => {});
  const started = Date.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const at = Date.now();
    options.signal?.throwIfAborted();
    progress(`${name}...`);
    try {
      return await work();
    } catch (error) {
      throw new Error(`seeding ${slug} failed at "${name}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      phases[name] = Date.now() - at;
    }
  };

  const keys = options.answerKeys ?? answerKeyDir();
  const already = await readAnswerKey(keys, cluster.name).catch(() => undefined);
  if (already) {
    throw new Error(
      `cluster ${cluster.name} already holds scenario ${already.scenario} (seeded ${already.seededAt}); ` +
        'a scenario is seeded once into a fresh cluster: create a new cluster (or reset the lab) and seed that',
    );
  }
  const kubeConfig = loadKubeConfig(cluster.kubeconfigPath);
  const params = resolveParams(options.seed, scenario.params);
  const world = fill(scenario.world, params);
  // Where pods are real containers (kind), their images come from the node, not a registry.
  const node = capabilitiesOf(cluster).realContainers ? await kindNodeOf(cluster) : undefined;
  // The known-good image too: eradication redeploys the workload from it.
  if (node) await phase('load the workload images', () => provideImages(node, [...imagesIn(world), String(fillString(scenario.compromisedPod.knownGoodImage, params))]));

  const count = await phase('build the world', () => applyWorld(kubeConfig, node ? forRealNodes(world) : world));
  progress(`  ${count} objects applied`);
  // Real containers start slower than simulated pods, more so on a loaded machine.
  await phase('wait for the world to settle', () => waitForSettled(kubeConfig, world, node ? { timeoutMs: 120_000 } : {}));

  const pods = await listRunningPods(kubeConfig);
  const target = scenario.compromisedPod;
  const compromised = pods.find((pod) => matches(pod, target.namespace, target.selector));
  if (!compromised) throw new Error(`no running pod in ${target.namespace} matches ${JSON.stringify(target.selector)}`);
  const values: Record<string, ParamValue> = { ...params, compromisedPod: compromised.name, compromisedPodIp: compromised.ip };
  for (const [name, lookup] of Object.entries(scenario.targets)) {
    const pod = pods.find((p) => matches(p, lookup.namespace, lookup.selector));
    if (!pod) throw new Error(`target ${name}: no running pod in ${lookup.namespace} matches ${JSON.stringify(lookup.selector)}`);
    values[name] = pod.name;
  }

  // A scenario that escapes to the node needs a real one: its kubelet credential, its filesystem.
  const onTheNode = target.nodeFiles !== undefined || Object.values(scenario.identities).some((identity) => identity.nodeCredential);
  if (onTheNode && !node) throw new Error(`scenario ${slug} acts on the node itself (nodeFiles or a nodeCredential identity): seed it on a kind cluster (--provider kind)`);
  const credential = onTheNode && node ? await phase('take the node\'s kubelet credential', () => kubeletCredentialOf(node)) : undefined;
  if (credential) Object.assign(values, { nodeName: credential.nodeName, nodeCredentialPem: credential.pem });
  const identities = await phase('get credentials', () => resolveIdentities(kubeConfig, scenario.identities, pods, credential));
  const stolen = Object.entries(scenario.identities).find(([, identity]) => identity.secretToken);
  values.stolenToken = stolen ? (identities[stolen[0]]?.token ?? '') : '';

  // Everything the seeder did so far (world, TokenRequests, the read of each stolen token's
  // Secret) is the cluster's history; a quiet gap keeps it out of the incident's window.
  const timeScale = options.timeScale ?? scenarioTimeScale();
  await phase('leave a quiet gap before the incident', () => pause(durationMs(scenario.startAfter) * timeScale, options.signal));
  // Images the attacker's requests name (an agent, a tool image), so they run as written.
  if (node) await provideImages(node, imagesIn([scenario.timeline]).map((image) => String(fillString(image, values))));
  const offset = await auditLogEnd(cluster.auditLogPath);
  const timelineStart = now();
  const outcomes = await phase('run the timeline', () =>
    runTimeline(scenario, values, identities, pods, {
      timeScale,
      signal: options.signal,
      onStep: (o) =>
        progress(
          `  ${o.step.malicious ? '!' : ' '} ${o.username} ${o.request.verb} ${o.request.path ?? `${o.request.kind} ${o.request.namespace ?? ''}${o.request.name ? `/${o.request.name}` : ''}`} from ${o.sourceIP} → ${o.status}`,
        ),
    }),
  );
  // The container log leads up to the attacker's first request, wherever that falls.
  const attackStart = outcomes.find((o) => o.step.malicious)?.at ?? timelineStart;

  const logRandom = seededRandom(`${options.seed}\u0000logs`);
  const container = compromised.containers[0] ?? 'main';
  const { files, logLines } = await phase('write the pod evidence', async () => {
    const templates = { files: path.join(dir, target.files), log: path.join(dir, target.logs) };
    const { rootfs, logs } = podDir(cluster.dir, compromised.namespace, compromised.name);
    const logFile = path.join(logs, `${container}.log`);
    if (node) return writeEvidenceOnNode(node, { ...compromised, container }, templates, logFile, values, attackStart, logRandom);
    // Owned by the pod's root (an unprivileged host uid), so the learner can work on them in the pod.
    const owner = podOwner(kubeConfig.getCurrentCluster()?.server ?? '');
    const rendered = await writePodTree(templates.files, rootfs, values, owner);
    return { files: rendered, logLines: await writeContainerLog(templates.log, logFile, values, attackStart, logRandom) };
  });

  const nodeFiles = node && target.nodeFiles !== undefined ? await phase('write the node evidence', () => writeNodeEvidence(node, path.join(dir, target.nodeFiles!), values)) : [];
  const nodeKey = credential && node
    ? {
        name: credential.nodeName,
        username: `system:node:${credential.nodeName}`,
        files: nodeFiles,
        container: { id: await containerIdOf(node, compromised.namespace, compromised.name, container), name: container },
        secretsRead: [...new Set(outcomes.filter((o) => o.step.malicious && o.username === `system:node:${credential.nodeName}` && o.request.kind === 'Secret' && o.status < 400).map((o) => `${o.request.namespace ?? '*'}/${o.request.verb === 'list' ? '*' : o.request.name}`))],
        sourceIPs: [...new Set(outcomes.filter((o) => o.step.malicious && o.username === `system:node:${credential.nodeName}`).map((o) => o.sourceIP))],
      }
    : undefined;

  const saUser = `system:serviceaccount:${compromised.namespace}:${compromised.serviceAccount}`;
  const reachable = await phase('note the reachable secrets', () =>
    reachableSecrets(kubeConfig, saUser, ['system:serviceaccounts', `system:serviceaccounts:${compromised.namespace}`, 'system:authenticated']),
  );
  const malicious = outcomes.filter((o) => o.step.malicious);
  const events = await phase('read back the audit log', () => auditEventsFor(cluster.auditLogPath, offset, malicious));
  const tokenOwners = Object.fromEntries(
    Object.entries(scenario.identities)
      .filter(([, identity]) => identity.secretToken)
      .map(([name, identity]) => [identity.secretToken!, identities[name]?.username ?? '']),
  );
  const usedByAttacker = new Set(malicious.map((o) => o.step.as));
  const tokenCredentials = Object.entries(scenario.identities)
    .filter(([name, identity]) => identity.secretToken && usedByAttacker.has(name) && identities[name]?.token)
    .map(([name, identity]) => ({ secret: identity.secretToken!, username: identities[name]!.username, token: identities[name]!.token! }));
  // The pod-bound tokens the attacker used (a pod's own account), for the scope and revocation checks.
  const boundTokens = Object.entries(scenario.identities)
    .filter(([name, identity]) => identity.serviceAccount && usedByAttacker.has(name) && identities[name]?.token)
    .map(([name, identity]) => {
      const [namespace = '', account = ''] = identity.serviceAccount!.split('/');
      const pod = pods.find((p) => p.namespace === namespace && p.serviceAccount === account);
      return { username: identities[name]!.username, pod: { namespace, name: pod?.name ?? '', uid: pod?.uid ?? '' }, token: identities[name]!.token! };
    });
  const scope = await phase('note the scope', () =>
    noteScope(kubeConfig, {
      identities: [...new Set(malicious.map((o) => o.username))],
      boundTokens,
      // Persistence only: reviews and token requests are answered, never stored, so nothing is left to remove.
      created: malicious
        .filter((o) => o.status < 400 && o.request.verb === 'create' && !EPHEMERAL_KINDS.has(o.request.kind ?? ''))
        .filter((o) => (o.request.body as { metadata?: { name?: string } } | undefined)?.metadata?.name)
        .map((o) => ({
          apiVersion: o.request.apiVersion,
          kind: o.request.kind,
          ...(o.request.namespace ? { namespace: o.request.namespace } : {}),
          name: String((o.request.body as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? ''),
        })),
    }));
  const built = buildAnswerKey({
    scenario: slug,
    seed: options.seed,
    cluster: cluster.name,
    params,
    compromisedPod: { ...compromised, knownGoodImage: target.knownGoodImage, ...(target.knownGoodDigest ? { knownGoodDigest: target.knownGoodDigest } : {}), ...(target.egressNeeds ? { egressNeeds: target.egressNeeds } : {}) },
    outcomes,
    events,
    files,
    logLines: logLines.length,
    tokenOwners,
    tokenCredentials,
    reachableSecrets: reachable,
    scope,
    now: now(),
  });
  const answerKey: AnswerKey = nodeKey ? { ...built, node: nodeKey } : built;
  const answerKeyFile = await writeAnswerKey(keys, answerKey);
  return { answerKey, answerKeyFile, durationMs: Date.now() - started, phases, outcomes };
}
