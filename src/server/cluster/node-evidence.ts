// Node evidence for a learner who must never get a shell on a kind node: a node is a container
// on the machine that runs irlab, and a shell in it is root there. So the server runs a short
// allow-list of read-only collections itself, each a fixed argv run with `docker exec <node>`
// (argv only, never a shell string), every name from the request checked against a strict
// pattern, output capped and time-limited, and writes the result into the learner's workspace.
//
// Collections never print a private key: the credential directories are listed with names,
// sizes and SHA-256 only.

import { spawn } from 'node:child_process';

import { NODE_EVIDENCE_COLLECTIONS, NODE_PATHS, type NodeEvidenceCollection } from '../../lib/node-evidence-collections.ts';

export { NODE_EVIDENCE_COLLECTIONS, NODE_PATHS, type NodeEvidenceCollection };

/** Output of one collection is cut here (and the file says so). */
export const NODE_EVIDENCE_MAX_BYTES = 2 * 1024 * 1024;
/** How long one collection may take. */
export const NODE_EVIDENCE_TIMEOUT_MS = 20_000;

/** What to run in the node (one or more argv) and the file it lands in, under `node-evidence/`. */
export interface CollectionPlan {
  collection: NodeEvidenceCollection;
  file: string;
  commands: string[][];
}

export type PlanResult = { ok: true; plan: CollectionPlan } | { ok: false; reason: string };

const CONTAINER_ID = /^[0-9a-f]{12,64}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A kind node container: `<cluster>-control-plane` (or `-worker`, `-worker2`). */
const NODE_CONTAINER = /^[a-z0-9]([-a-z0-9]{0,62}[a-z0-9])?-(control-plane|worker\d*)$/;

export function isNodeContainerName(name: string): boolean {
  return NODE_CONTAINER.test(name);
}

const refuse = (reason: string): PlanResult => ({ ok: false, reason });

/** The pod directory under /var/log/pods: `<namespace>_<pod>_<uid>`, each part checked. */
function podLogDir(value: string): boolean {
  const parts = value.split('_');
  return parts.length === 3 && DNS_LABEL.test(parts[0]!) && DNS_SUBDOMAIN.test(parts[1]!) && UID.test(parts[2]!);
}

/** `find` that never follows a symbolic link (-P) and stays on one filesystem. */
const findFiles = (dir: string, ...rest: string[]) => ['find', '-P', dir, '-xdev', '-maxdepth', '4', ...rest];

/**
 * Checks a request ({collection, args}) and returns the fixed argv it runs, or why it is refused.
 * Pure: no name from the request reaches an argv unless it matched its pattern.
 */
export function planCollection(collection: unknown, args: unknown): PlanResult {
  if (typeof collection !== 'string' || !(NODE_EVIDENCE_COLLECTIONS as readonly string[]).includes(collection)) {
    return refuse(`collection must be one of ${NODE_EVIDENCE_COLLECTIONS.join(', ')}`);
  }
  const list = args === undefined ? [] : args;
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'string') || list.length > 2) return refuse('args must be a list of at most two strings');
  const [first = '', second = ''] = list as string[];
  const want = (count: number, usage: string) => (list.length === count ? undefined : refuse(`${collection} takes ${usage}`));
  switch (collection as NodeEvidenceCollection) {
    case 'containers':
      return want(0, 'no args') ?? { ok: true, plan: { collection: 'containers', file: 'crictl-ps.json', commands: [['crictl', 'ps', '-a', '-o', 'json']] } };
    case 'container': {
      const bad = want(1, 'one arg: a container id from crictl ps (hex)');
      if (bad) return bad;
      if (!CONTAINER_ID.test(first)) return refuse('a container id is 12 to 64 lowercase hex digits, as crictl ps -a prints it');
      return { ok: true, plan: { collection: 'container', file: `crictl-inspect-${first}.json`, commands: [['crictl', 'inspect', '-o', 'json', first]] } };
    }
    case 'pod-logs':
      return want(0, 'no args') ?? { ok: true, plan: { collection: 'pod-logs', file: 'var-log-pods.txt', commands: [findFiles('/var/log/pods', '-printf', '%M %u %s %TY-%Tm-%TdT%TH:%TM %p\\n')] } };
    case 'pod-log': {
      const bad = want(2, 'two args: the pod\'s directory under /var/log/pods (<namespace>_<pod>_<uid>) and the container name');
      if (bad) return bad;
      if (!podLogDir(first)) return refuse('the pod directory is <namespace>_<pod>_<uid>, as the pod-logs listing shows it');
      if (!DNS_LABEL.test(second)) return refuse('the container name is a DNS label (lowercase letters, digits, "-")');
      const dir = `/var/log/pods/${first}/${second}`;
      return { ok: true, plan: { collection: 'pod-log', file: `pod-log-${first}-${second}.log`, commands: [['find', '-P', dir, '-maxdepth', '1', '-type', 'f', '-name', '*.log', '-exec', 'cat', '{}', '+']] } };
    }
    case 'files': {
      const bad = want(1, `one arg: one of ${Object.keys(NODE_PATHS).join(', ')}`);
      if (bad) return bad;
      const dir = Object.hasOwn(NODE_PATHS, first) ? NODE_PATHS[first] : undefined;
      if (!dir) return refuse(`files lists one of ${Object.keys(NODE_PATHS).join(', ')}`);
      return {
        ok: true,
        plan: {
          collection: 'files',
          file: `files-${first}.txt`,
          commands: [
            findFiles(dir, '-printf', '%M %u %s %TY-%Tm-%TdT%TH:%TM %p\\t%l\\n'),
            findFiles(dir, '-type', 'f', '-size', '-16M', '-exec', 'sha256sum', '{}', '+'),
          ],
        },
      };
    }
  }
}

export interface ExecResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  truncated: boolean;
}

/** Runs a command without a shell, keeping at most `maxBytes` of its output (then killing it). */
export type NodeExec = (command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; signal: AbortSignal; maxBytes: number }) => Promise<ExecResult>;

export const spawnExec: NodeExec = (command, args, { env, signal, maxBytes }) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env, signal, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      const room = maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        truncated = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => resolve({ code: 127, stdout: Buffer.concat(chunks), stderr: error.message, truncated }));
    child.on('close', (code) => resolve({ code: truncated ? 0 : (code ?? 1), stdout: Buffer.concat(chunks), stderr: stderr.slice(0, 4096), truncated }));
  });

export interface NodeTarget {
  /** The container engine binary (docker) and its environment (DOCKER_HOST). */
  engine: string;
  env: NodeJS.ProcessEnv;
  /** The node container, checked against the kind naming pattern. */
  container: string;
}

export interface Collected {
  file: string;
  content: Buffer;
  truncated: boolean;
  /** The first failing command's exit code, 0 when all ran. */
  exitCode: number;
  /** What the node said on stderr when a command failed (never a private key: no command prints one). */
  error?: string;
}

/** Runs a plan in the node: `<engine> exec <node> <argv>` per command, outputs joined, capped as a whole. */
export async function collect(node: NodeTarget, plan: CollectionPlan, signal: AbortSignal, exec: NodeExec = spawnExec, maxBytes = NODE_EVIDENCE_MAX_BYTES): Promise<Collected> {
  if (!isNodeContainerName(node.container)) throw new Error(`"${node.container}" is not a kind node container name`);
  const parts: Buffer[] = [];
  let left = maxBytes;
  let truncated = false;
  for (const argv of plan.commands) {
    signal.throwIfAborted();
    const result = await exec(node.engine, ['exec', node.container, ...argv], { env: node.env, signal, maxBytes: left });
    parts.push(result.stdout);
    left -= result.stdout.length;
    if (result.code !== 0) {
      return { file: plan.file, content: Buffer.concat(parts), truncated, exitCode: result.code, error: result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500) };
    }
    if (result.truncated || left <= 0) {
      truncated = true;
      break;
    }
  }
  const note = truncated ? Buffer.from(`\n[irlab: output cut at ${maxBytes} bytes]\n`) : Buffer.alloc(0);
  return { file: plan.file, content: Buffer.concat([...parts, note]), truncated, exitCode: 0 };
}
