// The contract every lab cluster backend fulfils. A lab talks to a real
// kube-apiserver whichever provider made it; providers differ only in how the
// control plane is run (local processes vs. kind node containers).

import { brandStatus, hintOf } from '../../lib/error-status.ts';

export type ProviderName = 'embedded' | 'kind';

export const PROVIDER_NAMES: readonly ProviderName[] = ['embedded', 'kind'];

/**
 * What a provider's clusters can do, for callers whose work differs with it: they ask what the
 * cluster can do, not which engine made it (only this module knows the engines).
 */
export interface ClusterCapabilities {
  /**
   * Pods are real containers on a node: a node pulls their images (none of irlab's pod runtime),
   * files reach a container from the node, and connections between pods can really be tried.
   * False: pods are simulated, and irlab's pod runtime gives them exec, cp and logs.
   */
  readonly realContainers: boolean;
  /**
   * A learner gets a bounded credential of their own (the provider's `learnerAccess`), never the
   * cluster's admin one: where pods are real containers the admin credential reaches the host.
   * False: the admin kubeconfig is the learner's (pods are sandboxed processes).
   */
  readonly learnerCredential: boolean;
}

const CAPABILITIES: Readonly<Record<ProviderName, ClusterCapabilities>> = {
  embedded: { realContainers: false, learnerCredential: false },
  kind: { realContainers: true, learnerCredential: true },
};

/** What the clusters of a provider can do (its `capabilities`). */
export function providerCapabilities(provider: ProviderName): ClusterCapabilities {
  return CAPABILITIES[provider];
}

/** What a cluster can do, from the provider that made it. */
export function capabilitiesOf(cluster: Pick<ClusterInfo, 'provider'>): ClusterCapabilities {
  return providerCapabilities(cluster.provider);
}

export interface ClusterInfo {
  name: string;
  provider: ProviderName;
  /** Admin kubeconfig for this cluster; hand it to @kubernetes/client-node. */
  kubeconfigPath: string;
  /**
   * The learner's own, bounded credential, once the provider has given one (`learnerAccess`).
   * Absent on a provider without learnerAccess: there the admin kubeconfig is the learner's.
   */
  learnerKubeconfigPath?: string;
  /** JSON-lines audit.k8s.io/v1 Event log written by the API server. */
  auditLogPath: string;
  /** Directory holding everything the cluster owns; gone after delete. */
  dir: string;
}

export interface CreateClusterOptions {
  /** DNS-label style; a random `lab-xxxxxx` name is used when omitted. */
  name?: string;
  /** audit.k8s.io/v1 Policy file; a Metadata-level default when omitted. */
  auditPolicyPath?: string;
  /**
   * Worker nodes (embedded: kwok-simulated, no kubelet; default 1) so that
   * Deployments schedule and become available. 0 for a bare control plane.
   */
  nodes?: number;
  /** Overall budget for create; steps fail with a hint once it is spent. */
  timeoutMs?: number;
  /** Progress callback, one call per step ("start control plane", ...). */
  onStep?: (step: string) => void;
}

export interface ComponentHealth {
  name: string;
  pid: number | null;
  running: boolean;
}

export interface ClusterHealth {
  name: string;
  /** True when GET /readyz on the API server answered ok. */
  apiServerReady: boolean;
  components: ComponentHealth[];
  /** Why the API server is not ready, when it is not. */
  detail?: string;
}

export interface AuditLogOptions {
  /** Keep reading as the API server appends, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Start at this byte offset instead of the beginning of the file. */
  fromOffset?: number;
}

/** The fields of audit.k8s.io/v1 Event that labs grade on; the rest is kept as-is. */
export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'None' | 'Metadata' | 'Request' | 'RequestResponse';
  auditID: string;
  stage: 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';
  requestURI: string;
  verb: string;
  user: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  impersonatedUser?: { username?: string; groups?: string[] };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion?: string;
    subresource?: string;
  };
  responseStatus?: { code?: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface ClusterProvider {
  readonly name: ProviderName;
  /** What its clusters can do (ask this, not `name`). */
  readonly capabilities: ClusterCapabilities;
  /**
   * Whether this machine can run the provider at all. Cheap, side-effect free;
   * `problems` says what is missing and how to get it.
   */
  available(): Promise<{ ok: boolean; problems: string[] }>;
  /** Creates and waits until the API server is ready; cleans up on failure. */
  create(options?: CreateClusterOptions): Promise<ClusterInfo>;
  /** Stops every process/container and removes every file of the cluster. */
  delete(name: string): Promise<void>;
  list(): Promise<ClusterInfo[]>;
  /** Path of the admin kubeconfig; throws ClusterError if the cluster is unknown. */
  kubeconfig(name: string): Promise<string>;
  /** Parsed audit events in file order; with `follow`, waits for new ones. */
  auditLog(name: string, options?: AuditLogOptions): AsyncIterable<AuditEvent>;
  /**
   * Validates the policy, restarts the API server with it and waits for ready.
   * If the API server refuses the policy, the previous policy is restored, the
   * API server is brought back on it, and AuditPolicyRejectedError carries the
   * API server's own message.
   */
  setAuditPolicy(name: string, policyPath: string): Promise<void>;
  health(name: string): Promise<ClusterHealth>;
  /**
   * Only on providers whose pods are real containers on a node that is part of this machine
   * (kind): the admin credential reaches the host through a privileged pod, so a learner gets a
   * credential of their own instead, bounded by policies nothing in the cluster can lift. Called
   * once the scenario is seeded; returns that kubeconfig's path (also in ClusterInfo from then on).
   * A provider without it runs pods as sandboxed processes: the admin kubeconfig is the learner's.
   * Present exactly where `capabilities.learnerCredential` is true; callers read the capability
   * (or `learnerAccessOf`), never the method's presence.
   */
  learnerAccess?(name: string, signal?: AbortSignal): Promise<string>;
  /**
   * With learnerAccess: a certificate for another person held by the same boundary (a drill
   * participant, named in the audit log as themselves); `groups` must include the learner group.
   * Arms the boundary first if learnerAccess has not yet. Valid for `days` (default 1).
   */
  boundedCertificate?(name: string, identity: { user: string; groups: readonly string[] }, options?: { days?: number; signal?: AbortSignal }): Promise<{ certificatePem: string; keyPem: string }>;
}

/**
 * The provider's `learnerAccess` where it declares `learnerCredential`, undefined where it does
 * not. A provider whose declaration and method disagree is a programming error: refused here,
 * since either way a learner could end up with the admin credential or without any.
 */
export function learnerAccessOf(provider: Pick<ClusterProvider, 'name' | 'capabilities' | 'learnerAccess'>): ((name: string, signal?: AbortSignal) => Promise<string>) | undefined {
  const method = provider.learnerAccess;
  if (provider.capabilities.learnerCredential !== (typeof method === 'function')) {
    throw new Error(`cluster provider ${provider.name} declares learnerCredential: ${provider.capabilities.learnerCredential} but ${method ? 'has' : 'has no'} learnerAccess method`);
  }
  return method ? method.bind(provider) : undefined;
}

/**
 * The kubeconfig a learner's shell gets on `cluster`: the learner's own where the provider gives
 * one, the admin's where it needs none. Never the admin's where the provider would give one but
 * has not (yet): that would be the host.
 */
export function learnerKubeconfig(cluster: ClusterInfo, provider: Pick<ClusterProvider, 'capabilities'>): string {
  if (cluster.learnerKubeconfigPath) return cluster.learnerKubeconfigPath;
  if (provider.capabilities.learnerCredential) {
    throw new ClusterError(`cluster ${cluster.name} has no learner credential yet; a learner never gets its admin credential`, 'Start the lab again: its incident is prepared with a learner identity.');
  }
  return cluster.kubeconfigPath;
}

/** An error a person can act on: what failed, and what to do about it. */
export class ClusterError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
    this.hint = hint;
    // A cluster that cannot be had or reached: the service is unavailable, the hint says why.
    brandStatus(this, 503);
  }
}

/** The API server would not start with a new audit policy; the old one is back in force. */
export class AuditPolicyRejectedError extends ClusterError {
  /** The API server's own error output, verbatim. */
  readonly apiServerMessage: string;
  constructor(apiServerMessage: string) {
    super(
      `kube-apiserver rejected the audit policy: ${apiServerMessage}`,
      'Fix the policy file and try again; the cluster is still running with its previous policy.',
    );
    this.name = 'AuditPolicyRejectedError';
    this.apiServerMessage = apiServerMessage;
    brandStatus(this, 422);
  }
}

export function formatClusterError(err: unknown): string {
  // By its hint, not `instanceof`: the error may come from another copy of this module.
  const hint = hintOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return hint ? `${message}\n  hint: ${hint}` : message;
}
