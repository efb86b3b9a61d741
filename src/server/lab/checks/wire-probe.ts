/**
 * Containment proved on the wire, where pods are real containers (kind): pods of the compromised
 * pod's namespace (and one from elsewhere) try to open a connection to it, and it tries to open
 * one to every other pod that serves a port. Each prober first reaches a control pod, so a probe
 * that cannot connect anywhere proves nothing and is left out. The probes run in the containers
 * through the node's CRI (crictl exec), not the Kubernetes API: they leave nothing in the
 * learner's audit log.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { containerIdOf, type KindNode } from '../../cluster/kind-workloads.ts';

export interface Endpoint {
  namespace: string;
  name: string;
  ip: string;
  /** The first declared container port: what the stand-in serves. */
  port: number | undefined;
  container: string;
}

export interface WireFacts {
  /** Probers whose control connection worked. */
  probers: number;
  /** Of those, the ones that reached the compromised pod: `same` in its namespace, `other` elsewhere. */
  reachedIn: Array<'same' | 'other'>;
  /** Served pods the compromised pod tried, and how many it reached. */
  triedOut: number;
  reachedOut: number;
  /** The port tried on the compromised pod (absent: it serves none, so ingress was not tried). */
  port: number | undefined;
}

/** Namespaces of the platform, whose images hold no shell tools to probe with. */
const PLATFORM = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export function endpointsOf(pods: V1Pod[]): Endpoint[] {
  return pods
    .filter((p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata?.deletionTimestamp && !p.spec?.hostNetwork && !PLATFORM.has(p.metadata?.namespace ?? ''))
    .map((p) => {
      const container = p.spec!.containers[0]!;
      return { namespace: p.metadata!.namespace!, name: p.metadata!.name!, ip: p.status!.podIP!, port: container.ports?.[0]?.containerPort, container: container.name };
    });
}

export type Connect = (from: Endpoint, to: { ip: string; port: number }) => Promise<boolean>;

/** A connection attempt from inside `from`'s container: an HTTP request the stand-in answers with "ok". */
export function crictlConnect(node: KindNode, signal?: AbortSignal): Connect {
  return async (from, to) => {
    const id = await containerIdOf(node, from.namespace, from.name, from.container);
    const script = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 "$0" "$1"';
    const r = await node.runner.run(node.engine.engine, ['exec', node.container, 'crictl', 'exec', id, 'sh', '-c', script, to.ip, String(to.port)], { env: node.engine.env, timeoutMs: 15_000, ...(signal ? { signal } : {}) });
    return r.stdout.split('\n').some((line) => line.trim() === 'ok');
  };
}

export interface ProbeOptions {
  maxProbers?: number;
  /** A policy takes a moment to reach the node's rules: a connection that gets through is tried
   * again this many times, `settleMs` apart, and counts only if it still gets through. */
  retries?: number;
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Probes until the result holds: a way in or out must still be open after the policies have had time to apply. */
export async function probeWire(target: { namespace: string; name: string }, endpoints: Endpoint[], connect: Connect, options: ProbeOptions = {}): Promise<WireFacts> {
  const { retries = 3, settleMs = 1_500, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = options;
  let facts = await probeOnce(target, endpoints, connect, options.maxProbers ?? 5);
  for (let attempt = 0; attempt < retries && (facts.reachedIn.length > 0 || facts.reachedOut > 0); attempt++) {
    await sleep(settleMs);
    facts = await probeOnce(target, endpoints, connect, options.maxProbers ?? 5);
  }
  return facts;
}

async function probeOnce(target: { namespace: string; name: string }, endpoints: Endpoint[], connect: Connect, maxProbers: number): Promise<WireFacts> {
  const victim = endpoints.find((e) => e.namespace === target.namespace && e.name === target.name);
  if (!victim) return { probers: 0, reachedIn: [], triedOut: 0, reachedOut: 0, port: undefined };
  const served = endpoints.filter((e) => e !== victim && e.port !== undefined);
  const others = endpoints.filter((e) => e !== victim);
  const probers = [...others.filter((e) => e.namespace === victim.namespace).slice(0, maxProbers - 1), ...others.filter((e) => e.namespace !== victim.namespace).slice(0, 1)];
  const reached = await Promise.all(
    probers.map(async (prober) => {
      const control = served.find((s) => s !== prober && s.namespace !== victim.namespace) ?? served.find((s) => s !== prober);
      if (!control || !(await connect(prober, { ip: control.ip, port: control.port! }).catch(() => false))) return undefined;
      if (victim.port === undefined) return false;
      return (await connect(prober, { ip: victim.ip, port: victim.port }).catch(() => false)) ? prober : false;
    }),
  );
  const out = await Promise.all(served.map((s) => connect(victim, { ip: s.ip, port: s.port! }).catch(() => false)));
  return {
    probers: reached.filter((r) => r !== undefined).length,
    reachedIn: reached.filter((r): r is Endpoint => Boolean(r)).map((r) => (r.namespace === victim.namespace ? 'same' : 'other')),
    triedOut: served.length,
    reachedOut: out.filter(Boolean).length,
    port: victim.port,
  };
}
