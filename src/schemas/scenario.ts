import { z } from 'zod';
import { attackTechniqueSchema } from './lesson.ts';

/**
 * A scenario (`scenarios/<slug>/scenario.yaml`) turns an empty cluster into the scene of an
 * incident: the world, benign background activity, and an attack made with real credentials so
 * the real API server authenticates, authorizes and audits every step. Any string may use
 * `{{ param }}` placeholders resolved from `params` with the learner's seed, plus these, known
 * once the world has settled: `compromisedPod` (its name), `compromisedPodIp`, `stolenToken` (the
 * token held by the first `secretToken` identity), each `targets` name, and `item` in a `forEach`.
 */
export const RUNTIME_PLACEHOLDERS = ['compromisedPod', 'compromisedPodIp', 'stolenToken', 'nodeName', 'nodeCredentialPem'] as const;

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lowercase letters, digits and "-" (a DNS label)');
const nsName = z.string().regex(/^([a-z0-9][-a-z0-9]*\/)?[a-z0-9][-a-z0-9.]*$/, 'write it as "<namespace>/<name>"');

/** Exactly one of the keys must be set: unions give unreadable errors, this says what to write. */
function exactlyOne<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[]) {
  return (value: T, ctx: z.RefinementCtx) => {
    const present = keys.filter((key) => value[key] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: present.length === 0 ? `give one of ${keys.join(', ')}` : `give only one of ${present.join(', ')}`,
      });
    }
  };
}

/** How one randomized value is drawn from the seed. Exactly one key. */
export const paramSchema = z
  .strictObject({
    /** One element of the list. */
    pick: z.array(z.string()).min(1).optional(),
    /** `count` distinct elements of the list, in a seeded order (use with `count`). */
    sample: z.array(z.string()).min(1).optional(),
    /** How many elements `sample` draws. */
    count: z.number().int().positive().optional(),
    /** An address inside this IPv4 CIDR (network and broadcast addresses excluded). */
    ip: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 CIDR such as 203.0.113.0/24').optional(),
    /** A lowercase alphanumeric string of this length, for names such as `miner-{{ suffix }}`. */
    token: z.number().int().min(3).max(16).optional(),
    /** An integer between the two bounds, inclusive. */
    int: z.tuple([z.number().int(), z.number().int()]).optional(),
  })
  .superRefine(exactlyOne(['pick', 'sample', 'ip', 'token', 'int']))
  .superRefine((value, ctx) => {
    if (value.sample && (value.count === undefined || value.count > value.sample.length)) {
      ctx.addIssue({ code: 'custom', path: ['count'], message: `sample needs a count between 1 and ${value.sample.length}` });
    }
  });

/** Who makes a request. Exactly one key. */
export const identitySchema = z
  .strictObject({
    /** A service account, `<namespace>/<name>`; its token comes from the TokenRequest API, as a pod's projected token would. */
    serviceAccount: nsName.optional(),
    /** A legacy `kubernetes.io/service-account-token` Secret, `<namespace>/<name>`, whose token is used: a stolen credential. */
    secretToken: nsName.optional(),
    /** The cluster administrator (the provider's admin kubeconfig). */
    admin: z.literal(true).optional(),
    /** The kubelet's own client certificate, taken from the node the compromised pod runs on
     * (kind only: the seeder reads /var/lib/kubelet/pki/kubelet-client-current.pem on the node,
     * never through the API). The API server logs it as `system:node:<node>`, and the Node
     * authorizer lets it read only what pods bound to that node reference. */
    nodeCredential: z.literal(true).optional(),
  })
  .superRefine(exactlyOne(['serviceAccount', 'secretToken', 'admin', 'nodeCredential']));

/**
 * A pause, as `40s`, `3m`, `1m30s` or `500ms`. Timeline pauses are real: the API server stamps
 * every audit event with the time it received the request, so an incident that reads as minutes
 * of dwell time takes minutes to seed (times IRLAB_SCENARIO_TIME_SCALE; see docs/authoring.md).
 */
export const durationSchema = z
  .string()
  .regex(/^(\d+h)?(\d+m(?!s))?(\d+s)?(\d+ms)?$/, 'a duration such as 40s, 3m, 1m30s or 500ms')
  .refine((value) => value !== '', 'a duration such as 40s, 3m, 1m30s or 500ms');

/** Milliseconds in a duration written as `durationSchema` accepts. */
export function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|h|m|s)/g)) total += Number(amount) * units[unit!]!;
  return total;
}

/**
 * One API request: a resource named by kind as in a manifest, or (with `path`) a non-resource
 * URL such as the discovery documents `/api` and `/apis` that every client reads first.
 */
export const requestSchema = z.strictObject({
  /** Kubernetes verb as the audit log writes it. `exec` is `create` on `pods/exec`. */
  verb: z.enum(['get', 'list', 'create', 'patch', 'delete', 'exec']),
  /** A non-resource URL (`/api`, `/apis`, `/version`, ...) read with `verb: get`; then leave out
   * apiVersion and kind. The audit log records it with no objectRef, only the requestURI. */
  path: z.string().regex(/^\/[-a-zA-Z0-9/._]*$/, 'an absolute URL path such as /apis').optional(),
  /** apiVersion of the kind, e.g. `v1`, `apps/v1`, `rbac.authorization.k8s.io/v1`. */
  apiVersion: z.string().default(''),
  /** Kind, e.g. `Secret`; checked against the kinds scenarios may use. */
  kind: z.string().default(''),
  /** Namespace; omit for cluster-scoped kinds or a cluster-wide list. */
  namespace: z.string().optional(),
  /** Object name, for get, patch, delete and exec. */
  name: z.string().optional(),
  /** The object to create, or the merge patch to apply. */
  body: z.record(z.string(), z.unknown()).optional(),
  /** For exec: the command, as argv. */
  command: z.array(z.string()).min(1).optional(),
});

/** One entry of the timeline: a request made as an identity, from an address. */
export const stepSchema = z.strictObject({
  /** Name of an entry in `identities`. */
  as: z.string().min(1),
  /** X-Forwarded-For address (the API server records it first in `sourceIPs`): an IP, a
   * `{{ param }}`, or `pod` for the compromised pod's own IP. */
  from: z.string().min(1),
  /** User-Agent header, which the audit log records. */
  userAgent: z.string().min(1).default('kubectl/v1.37.2 (linux/amd64) kubernetes/0000000'),
  /** True for the attacker's requests; these become the answer key. */
  malicious: z.boolean().default(false),
  /** Detection signal this step produces (lesson's five), for the answer key and the graders. */
  signal: z.enum(['secret-enumeration', 'rbac-escalation', 'pod-exec', 'token-theft', 'namespace-escape']).optional(),
  /** ATT&CK technique id of this step. */
  technique: z.string().regex(/^T\d{4}(\.\d{3})?$/).optional(),
  /** Repeat the step once per element of a list param, bound as `{{ item }}`. */
  forEach: z.string().optional(),
  /** What the API server must answer; seeding fails loudly when the world does not behave. */
  expect: z.enum(['allowed', 'denied', 'any']).default('allowed'),
  /** Why this step is here, for instructors reading the file and for the drill report. */
  note: z.string().optional(),
  /** How long after the previous step (or, for the first step, after `startAfter`) this one is
   * made; with `forEach`, the pause before each repetition. Scaled by IRLAB_SCENARIO_TIME_SCALE. */
  after: durationSchema.optional(),
  request: requestSchema,
});

/** The pod the attacker came in through. */
export const compromisedPodSchema = z.strictObject({
  namespace: dnsLabel,
  /** Labels of the Deployment's pods; the first Running match is the compromised pod. */
  selector: z.record(z.string(), z.string()),
  /** Directory (relative to the scenario) copied as the pod's filesystem, templated. */
  files: z.string().min(1),
  /** File (relative to the scenario) holding the container's log lines, templated. */
  logs: z.string().min(1),
  /** Directory (relative to the scenario) whose files the attacker left on the node, written
   * at the same paths under the node's `/` (kind only), templated; `{{ nodeCredentialPem }}`
   * is the node's kubelet client credential (a copy the attacker made). Hashed in the answer key. */
  nodeFiles: z.string().min(1).optional(),
  /** The image the workload must run again after eradication. */
  knownGoodImage: z.string().min(1),
  /** The known-good image's digest (`sha256:<64 hex>`): the workload may run it by digest too. */
  knownGoodDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'write a digest like sha256:<64 hex digits>').optional(),
  /** What the workload must still reach once its egress is limited (DNS is always needed). */
  egressNeeds: z.array(z.strictObject({
    namespace: dnsLabel,
    /** Labels of the destination pods, e.g. the database's. */
    labels: z.record(z.string(), z.string()),
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['TCP', 'UDP']).default('TCP'),
  })).optional(),
});

export const scenarioSchema = z.strictObject({
  /** Title shown to learners and in drills. */
  title: z.string().min(5).max(120),
  /** What happened, as a learner is told at the start (no answers here). */
  summary: z.string().min(20).max(600),
  /** ATT&CK techniques the attack uses. */
  attack: z.array(attackTechniqueSchema).default([]),
  /** Randomized values, drawn from the learner's seed. */
  params: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'param names are letters and digits'), paramSchema).default({}),
  /** Who acts in the scenario, by name. */
  identities: z.record(z.string().regex(/^[a-z][-a-z0-9]*$/), identitySchema),
  /** Manifests applied (server-side apply, as the admin) before anything happens. */
  world: z.array(z.record(z.string(), z.unknown())).min(1),
  compromisedPod: compromisedPodSchema,
  /** Other pods the timeline needs by name (e.g. an exec target), found by label once the world
   * has settled; each becomes a `{{ name }}` placeholder holding the pod's name. */
  targets: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), z.strictObject({ namespace: dnsLabel, selector: z.record(z.string(), z.string()) }))
    .default({}),
  /** The pause between seeding's own setup (world, settling, the TokenRequests and the read of
   * every stolen token's Secret, all as the admin) and the first timeline step, so setup traffic
   * sits well before the window the learner investigates. Scaled like `after`. */
  startAfter: durationSchema.default('2m'),
  /** Ordered requests: benign activity and the attack, interleaved as they would be, each
   * `after` a pause, so the incident spreads over minutes of dwell time. */
  timeline: z.array(stepSchema).min(1),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = z.infer<typeof stepSchema>;
export type ScenarioRequest = z.infer<typeof requestSchema>;
export type ScenarioParam = z.infer<typeof paramSchema>;
export type ScenarioIdentity = z.infer<typeof identitySchema>;
