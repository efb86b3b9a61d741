/**
 * Containment proved on the wire, where pods are real containers (kind): pods of the compromised
 * pod's namespace (and one from elsewhere) try to open a connection to it, and it tries to open
 * one to every other pod that serves a port. Each prober first reaches a control pod, so a probe
 * that cannot connect anywhere proves nothing and is left out. The probes run in the containers
 * through the node's CRI (crictl exec), not the Kubernetes API: they leave nothing in the
 * learner's audit log.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { KindNode } from '../../cluster/kind-workloads.ts';

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
  /** Pods of its namespace that were not tried as probers (past MAX_PROBERS), as `namespace/name`. */
  untriedIn: string[];
  /** Served pods it did not try (past MAX_TARGETS), as `namespace/name`. */
  untriedOut: string[];
}

/**
 * At most this many pods try the compromised pod, and at most this many served pods does it try,
 * per round. Every attempt is a `crictl exec` started at once inside the node (a process and a
 * connection of up to 2 s each), and the pods are the learner's: a learner who starts hundreds
 * would otherwise have one check fork hundreds of processes in the node and outlast its time
 * limit. What the cap leaves untried is reported (`untriedIn`, `untriedOut`), never passed over.
 */
export const MAX_PROBERS = 5;
export const MAX_TARGETS = 16;

/** The facts when the compromised pod is not there to try. */
export function nothingTried(): WireFacts {
  return { probers: 0, reachedIn: [], triedOut: 0, reachedOut: 0, port: undefined, untriedIn: [], untriedOut: [] };
}

const named = (e: Endpoint) => `${e.namespace}/${e.name}`;

/** Pods in turn from each namespace (a, b, c, a, b, ...), so that the first N tried span namespaces. */
export function acrossNamespaces(endpoints: Endpoint[]): Endpoint[] {
  const byNamespace = new Map<string, Endpoint[]>();
  for (const e of endpoints) byNamespace.set(e.namespace, [...(byNamespace.get(e.namespace) ?? []), e]);
  const queues = [...byNamespace.values()];
  const spread: Endpoint[] = [];
  for (let round = 0; spread.length < endpoints.length; round++) for (const queue of queues) if (queue[round]) spread.push(queue[round]!);
  return spread;
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

/** One attempt: from a pod's container to an address. */
export interface Attempt {
  from: Endpoint;
  to: { ip: string; port: number };
}

/** Tries every attempt at once; true where the connection got an answer. */
export type ConnectAll = (attempts: Attempt[]) => Promise<boolean[]>;

/**
 * All attempts in one `docker exec` into the node: the containers found once (crictl ps), then
 * an HTTP request from inside each (the stand-in answers "ok"), in parallel, 2 s each at most.
 */
export function crictlConnectAll(node: KindNode, signal?: AbortSignal): ConnectAll {
  return async (attempts) => {
    if (!attempts.length) return [];
    const ps = await node.runner.run(node.engine.engine, ['exec', node.container, 'crictl', 'ps', '-o', 'json', '--state', 'Running'], { env: node.engine.env, timeoutMs: 30_000, ...(signal ? { signal } : {}) });
    const ids = new Map<string, string>();
    for (const c of (JSON.parse(ps.stdout || '{}') as { containers?: Array<{ id: string; labels?: Record<string, string> }> }).containers ?? []) {
      const l = c.labels ?? {};
      ids.set(`${l['io.kubernetes.pod.namespace']}/${l['io.kubernetes.pod.name']}/${l['io.kubernetes.container.name']}`, c.id);
    }
    const args = attempts.flatMap((a) => [ids.get(`${a.from.namespace}/${a.from.name}/${a.from.container}`) ?? 'none', a.to.ip, String(a.to.port)]);
    const script = [
      'i=0',
      'while [ $# -ge 3 ]; do',
      '  ( if [ "$1" != none ] && crictl exec "$1" sh -c \'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 "$0" "$1"\' "$2" "$3" 2>/dev/null | grep -qx ok; then echo "$i ok"; else echo "$i no"; fi ) &',
      '  i=$((i+1)); shift 3',
      'done',
      'wait',
    ].join('\n');
    const r = await node.runner.run(node.engine.engine, ['exec', node.container, 'sh', '-c', script, 'sh', ...args], { env: node.engine.env, timeoutMs: 60_000, ...(signal ? { signal } : {}) });
    const ok = new Set(r.stdout.split('\n').filter((line) => line.endsWith(' ok')).map((line) => Number(line.split(' ')[0])));
    return attempts.map((_, index) => ok.has(index));
  };
}

export interface ProbeOptions {
  /** Fewer probers than MAX_PROBERS (never more). */
  maxProbers?: number;
  /** A policy takes a moment to reach the node's rules: a connection that gets through is tried
   * again this many times, `settleMs` apart, and counts only if it still gets through. */
  retries?: number;
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Probes until the result holds: a way in or out must still be open after the policies have had time to apply. */
export async function probeWire(target: { namespace: string; name: string }, endpoints: Endpoint[], connect: ConnectAll, options: ProbeOptions = {}): Promise<WireFacts> {
  const { retries = 2, settleMs = 1_500, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = options;
  const maxProbers = Math.max(1, Math.min(options.maxProbers ?? MAX_PROBERS, MAX_PROBERS));
  let facts = await probeOnce(target, endpoints, connect, maxProbers);
  for (let attempt = 0; attempt < retries && (facts.reachedIn.length > 0 || facts.reachedOut > 0); attempt++) {
    await sleep(settleMs);
    facts = await probeOnce(target, endpoints, connect, maxProbers);
  }
  return facts;
}

async function probeOnce(target: { namespace: string; name: string }, endpoints: Endpoint[], connect: ConnectAll, maxProbers: number): Promise<WireFacts> {
  const victim = endpoints.find((e) => e.namespace === target.namespace && e.name === target.name);
  if (!victim) return nothingTried();
  const everyServed = acrossNamespaces(endpoints.filter((e) => e !== victim && e.port !== undefined));
  const served = everyServed.slice(0, MAX_TARGETS);
  const others = endpoints.filter((e) => e !== victim);
  // Its own namespace's pods (the usual way in), and one from elsewhere standing for the rest.
  const neighbours = others.filter((e) => e.namespace === victim.namespace);
  const probers = [...neighbours.slice(0, maxProbers - 1), ...others.filter((e) => e.namespace !== victim.namespace).slice(0, 1)];
  // Each prober's control (a served pod elsewhere), its try at the victim, and the victim's tries out: all at once.
  const plan = probers.map((prober) => ({ prober, control: served.find((s) => s !== prober && s.namespace !== victim.namespace) ?? served.find((s) => s !== prober) }));
  const attempts: Attempt[] = [];
  const at = (attempt: Attempt) => attempts.push(attempt) - 1;
  const slots = plan.map(({ prober, control }) => ({
    prober,
    control: control ? at({ from: prober, to: { ip: control.ip, port: control.port! } }) : undefined,
    victim: control && victim.port !== undefined ? at({ from: prober, to: { ip: victim.ip, port: victim.port } }) : undefined,
  }));
  const out = served.map((s) => at({ from: victim, to: { ip: s.ip, port: s.port! } }));
  const answered = await connect(attempts).catch(() => attempts.map(() => false));
  const sound = slots.filter((slot) => slot.control !== undefined && answered[slot.control]);
  return {
    probers: sound.length,
    reachedIn: sound.filter((slot) => slot.victim !== undefined && answered[slot.victim]).map((slot) => (slot.prober.namespace === victim.namespace ? 'same' : 'other')),
    triedOut: served.length,
    reachedOut: out.filter((index) => answered[index]).length,
    port: victim.port,
    untriedIn: neighbours.slice(maxProbers - 1).map(named),
    untriedOut: everyServed.slice(MAX_TARGETS).map(named),
  };
}
