/**
 * The truth about one seeded incident, for graders only. It is written under irlab's data
 * directory (mode 0600), outside every learner workspace and sandbox, and never sent to a
 * browser: pages get per-criterion verdicts computed from it on the server.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditEvent } from '../cluster/types.ts';
import type { ParamValue } from './params.ts';
import type { RenderedFile } from './pod-evidence.ts';
import type { ScopeKey } from './scope-key.ts';
import type { StepOutcome } from './timeline.ts';
import type { PodSummary } from './world.ts';

export interface AnswerKeyStep {
  index: number;
  signal?: string;
  technique?: string;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  username: string;
  sourceIP: string;
  userAgent: string;
  status: number;
  auditId: string;
  /** requestReceivedTimestamp from the audit log. */
  at: string;
}

export interface AnswerKey {
  version: 1;
  scenario: string;
  seed: string;
  cluster: string;
  seededAt: string;
  params: Record<string, ParamValue>;
  /** `knownGoodDigest` (`sha256:...`): the same image by digest, accepted as well as the tag. */
  compromisedPod: PodSummary & {
    knownGoodImage: string;
    knownGoodDigest?: string;
    egressNeeds?: Array<{ namespace: string; labels: Record<string, string>; port: number; protocol: 'TCP' | 'UDP' }>;
  };
  attacker: { usernames: string[]; sourceIPs: string[]; userAgents: string[] };
  /** `namespace/name` of every secret the attacker read, and `namespace/*` for each list. */
  secretsRead: string[];
  namespacesEnumerated: string[];
  stolenTokens: Array<{ secret: string; username: string }>;
  /** Every legacy token (`secretToken` identity) the attacker used, with the token itself, so a
   * check can ask the API server (TokenReview) whether it still authenticates. Keys written
   * before this field existed lack it. */
  tokenCredentials?: Array<{ secret: string; username: string; token: string }>;
  bindingsCreated: Array<{ name: string; role: string; subjects: string[] }>;
  execs: Array<{ namespace: string; pod: string; command: string[] }>;
  podsCreated: Array<{ namespace: string; name: string; images: string[] }>;
  firstMaliciousAt: string;
  steps: AnswerKeyStep[];
  /** Identities that acted in the timeline without malice. */
  benignUsernames: string[];
  files: RenderedFile[];
  logLines: number;
  /** Every secret the compromised pod's service account could read when the incident happened,
   * with a fingerprint of its data: rotation means the data (or the object) changed since. */
  reachableSecrets: Array<{ namespace: string; name: string; uid: string; sha256: string }>;
  /** The incident's scope (compromised identities, stolen bound tokens, what each could read,
   * a hash of every seeded secret value), for the scope step and eradication. Keys written
   * before this field existed lack it. */
  scope?: ScopeKey;
  /** When the attacker escaped to the node (kind): the node, its identity, what was left on it
   * (paths and hashes), the escaped-from container, and what the node's credential read. */
  node?: NodeKey;
}

export interface NodeKey {
  /** The node's name (its container's, on kind). */
  name: string;
  /** `system:node:<name>`, as the audit log records the kubelet's credential. */
  username: string;
  files: RenderedFile[];
  /** The compromised pod's container the attacker escaped from (containerd's id). */
  container: { id: string; name: string };
  /** `namespace/name` of every secret the node's credential read. */
  secretsRead: string[];
  /** Every address the node's credential was used from. */
  sourceIPs: string[];
}

export function answerKeyDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.IRLAB_DATA_DIR ?? '.irlab/data', 'answer-keys');
}

export async function writeAnswerKey(dir: string, key: AnswerKey): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${key.cluster}.json`);
  await writeFile(file, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function readAnswerKey(dir: string, cluster: string): Promise<AnswerKey> {
  return JSON.parse(await readFile(path.join(dir, `${path.basename(cluster)}.json`), 'utf8')) as AnswerKey;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Builds the key from what the timeline did and what the audit log recorded for it. */
export function buildAnswerKey(input: {
  scenario: string;
  seed: string;
  cluster: string;
  params: Record<string, ParamValue>;
  compromisedPod: AnswerKey['compromisedPod'];
  outcomes: StepOutcome[];
  /** The audit event that recorded each malicious step. */
  events: Map<StepOutcome, AuditEvent>;
  files: RenderedFile[];
  logLines: number;
  /** Username behind each stolen token secret (`namespace/name`). */
  tokenOwners: Record<string, string>;
  /** The `secretToken` credentials the attacker's steps used. */
  tokenCredentials?: NonNullable<AnswerKey['tokenCredentials']>;
  reachableSecrets: AnswerKey['reachableSecrets'];
  scope?: ScopeKey;
  now: Date;
}): AnswerKey {
  const malicious = input.outcomes.filter((o) => o.step.malicious);
  const steps: AnswerKeyStep[] = malicious.map((o) => {
    const event = input.events.get(o);
    if (!event) throw new Error(`no audit event for malicious step ${o.index}`);
    return {
      index: o.index,
      ...(o.step.signal ? { signal: o.step.signal } : {}),
      ...(o.step.technique ? { technique: o.step.technique } : {}),
      verb: event.verb,
      resource: event.objectRef?.resource ?? '',
      ...(event.objectRef?.subresource ? { subresource: event.objectRef.subresource } : {}),
      ...(event.objectRef?.namespace ? { namespace: event.objectRef.namespace } : {}),
      ...(event.objectRef?.name ? { name: event.objectRef.name } : {}),
      username: event.user.username ?? o.username,
      sourceIP: o.sourceIP,
      userAgent: o.step.userAgent,
      status: o.status,
      auditId: event.auditID,
      at: event.requestReceivedTimestamp ?? '',
    };
  });
  const ok = (o: StepOutcome) => o.status < 400;
  const secretSteps = malicious.filter((o) => o.request.kind === 'Secret' && ok(o));
  const first = steps.map((s) => s.at).sort()[0];
  if (!first) throw new Error('the scenario has no malicious step');
  return {
    version: 1,
    scenario: input.scenario,
    seed: input.seed,
    cluster: input.cluster,
    seededAt: input.now.toISOString(),
    params: input.params,
    compromisedPod: input.compromisedPod,
    attacker: {
      usernames: unique(steps.map((s) => s.username)),
      sourceIPs: unique(steps.map((s) => s.sourceIP)),
      userAgents: unique(steps.map((s) => s.userAgent)),
    },
    secretsRead: unique(secretSteps.map((o) => `${o.request.namespace ?? '*'}/${o.request.verb === 'list' ? '*' : o.request.name}`)),
    namespacesEnumerated: unique(secretSteps.filter((o) => o.request.verb === 'list').map((o) => o.request.namespace ?? '*')),
    stolenTokens: secretSteps
      .filter((o) => o.step.signal === 'token-theft')
      .map((o) => {
        const secret = `${o.request.namespace}/${o.request.name}`;
        return { secret, username: input.tokenOwners[secret] ?? '' };
      }),
    tokenCredentials: input.tokenCredentials ?? [],
    bindingsCreated: malicious
      .filter((o) => ok(o) && o.request.verb === 'create' && o.request.kind.endsWith('RoleBinding'))
      .map((o) => {
        const body = o.request.body as { metadata?: { name?: string }; roleRef?: { name?: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> };
        return {
          name: body.metadata?.name ?? '',
          role: body.roleRef?.name ?? '',
          subjects: (body.subjects ?? []).map((s) => (s.kind === 'ServiceAccount' ? `system:serviceaccount:${s.namespace}:${s.name}` : `${s.kind}:${s.name}`)),
        };
      }),
    execs: malicious
      .filter((o) => o.request.verb === 'exec')
      .map((o) => ({ namespace: o.request.namespace ?? '', pod: o.request.name ?? '', command: o.request.command ?? [] })),
    podsCreated: malicious
      .filter((o) => ok(o) && o.request.verb === 'create' && o.request.kind === 'Pod')
      .map((o) => {
        const body = o.request.body as { metadata?: { name?: string }; spec?: { containers?: Array<{ image: string }> } };
        return { namespace: o.request.namespace ?? '', name: body.metadata?.name ?? '', images: (body.spec?.containers ?? []).map((c) => c.image) };
      }),
    firstMaliciousAt: first,
    steps,
    benignUsernames: unique(input.outcomes.filter((o) => !o.step.malicious).map((o) => o.username)),
    files: input.files,
    logLines: input.logLines,
    reachableSecrets: input.reachableSecrets,
    ...(input.scope ? { scope: input.scope } : {}),
  };
}
