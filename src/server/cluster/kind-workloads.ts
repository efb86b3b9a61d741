// A scenario's workloads as real containers on a kind node. No registry is reachable, so every
// image a scenario names (registry.shop.internal/web-app:2.14.1, postgres:16.4, an attacker's
// agent) is one small stand-in image, built here from the host's static busybox and tagged
// inside the node's containerd under each name: pods then start without a pull. The stand-in
// stays up, answers HTTP on the ports its container declares (so a probe can prove a
// NetworkPolicy's cut) and stops at once on SIGTERM.
//
// A compromised pod's evidence (its files, its container log) is written from the node, not
// through the API: an exec by the seeder would show in the learner's audit log.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { answeringEngine, type KindEngine } from './kind-engine.ts';
import { nodeRunner, type Runner } from './runtime.ts';
import { ClusterError, type ClusterInfo } from './types.ts';

/** Bump when the stand-in's script changes: a node keeps the image it was given. */
export const WORKLOAD_IMAGE = 'irlab/scenario-workload:2';

/** The stand-in's PID 1: `IRLAB_LISTEN` holds the container's ports. */
const ENTRYPOINT = `#!/bin/sh
trap 'exit 0' TERM INT
for port in $IRLAB_LISTEN; do httpd -p "$port" -h /www; done
while :; do sleep 3600 & wait $!; done
`;

const APPLETS = ['sh', 'cat', 'ls', 'env', 'echo', 'printf', 'sleep', 'httpd', 'nc', 'tar', 'mkdir', 'rm', 'cp', 'mv', 'grep', 'head', 'tail', 'ps', 'id', 'hostname', 'base64', 'sha256sum', 'nsenter', 'chroot', 'mount', 'find', 'wc', 'tr', 'sed', 'awk', 'vi', 'test', 'true', 'false', 'kill', 'date', 'uname'];

/** A kind cluster's node container and the engine it runs in. */
export interface KindNode {
  engine: KindEngine;
  /** The node container, `<cluster>-control-plane`. */
  container: string;
  runner: Runner;
}

export async function kindNodeOf(cluster: ClusterInfo, runner: Runner = nodeRunner, env: NodeJS.ProcessEnv = process.env): Promise<KindNode> {
  const { found, probes } = await answeringEngine(runner, env);
  if (!found) throw new ClusterError(`the container engine of kind cluster ${cluster.name} does not answer (${probes.map((p) => p.detail).join('; ')})`, 'Is dockerd running? `irlab cluster list` shows the cluster.');
  return { engine: found, container: `${cluster.name}-control-plane`, runner };
}

/** An image reference as containerd's CRI resolves it: `postgres:16.4` is docker.io/library/postgres:16.4. */
export function normalizeImage(ref: string): string {
  const [name, digest] = ref.split('@') as [string, string | undefined];
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let full = hasRegistry ? name : `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  if (!digest && !/:[^/]+$/.test(full)) full += ':latest';
  return digest ? `${full}@${digest}` : full;
}

/** Every `image:` string anywhere in these objects (pod templates at any depth), as written. */
export function imagesIn(objects: unknown[]): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'image' && typeof child === 'string' && child.trim()) found.add(child.trim());
        else visit(child);
      }
    }
  };
  objects.forEach(visit);
  return [...found].sort();
}

/**
 * The world as a real node runs it: every container takes its image from the node
 * (imagePullPolicy IfNotPresent, even for `:latest`), and a container without a command is told
 * its ports. Everything else, names and images included, is what the scenario wrote.
 */
export function forRealNodes<T>(manifests: T[]): T[] {
  const adapt = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(adapt);
    if (!value || typeof value !== 'object') return value;
    const object = Object.fromEntries(Object.entries(value).map(([key, child]) => [key, adapt(child)])) as Record<string, unknown>;
    for (const key of ['containers', 'initContainers'] as const) {
      const list = object[key];
      if (!Array.isArray(list)) continue;
      object[key] = list.map((container: Record<string, unknown>) => {
        if (typeof container.image !== 'string') return container;
        const ports = Array.isArray(container.ports) ? (container.ports as Array<{ containerPort?: unknown }>).map((p) => p.containerPort).filter((p) => Number.isInteger(p)) : [];
        const env = Array.isArray(container.env) ? container.env : [];
        return {
          ...container,
          imagePullPolicy: 'IfNotPresent',
          ...(container.command === undefined && ports.length ? { env: [...env, { name: 'IRLAB_LISTEN', value: ports.join(' ') }] } : {}),
        };
      });
    }
    return object;
  };
  return manifests.map((m) => adapt(m) as T);
}

async function must(node: KindNode, args: string[], what: string, timeoutMs = 60_000): Promise<string> {
  const r = await node.runner.run(node.engine.engine, args, { env: node.engine.env, timeoutMs });
  if (r.code !== 0) throw new ClusterError(`${what} failed (${node.engine.engine} ${args.slice(0, 2).join(' ')}, exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

async function shell(node: KindNode, script: string, what: string, timeoutMs = 120_000): Promise<string> {
  const r = await node.runner.run('bash', ['-c', script, node.engine.engine, node.container, WORKLOAD_IMAGE], { env: node.engine.env, timeoutMs });
  if (r.code !== 0) throw new ClusterError(`${what} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

/** The stand-in image in the engine, built from /bin/busybox the first time (about a second). */
export async function ensureWorkloadImage(node: KindNode): Promise<void> {
  const there = await node.runner.run(node.engine.engine, ['image', 'inspect', WORKLOAD_IMAGE], { env: node.engine.env, timeoutMs: 30_000 });
  if (there.code === 0) return;
  const build = [
    'set -euo pipefail',
    '[[ -x /bin/busybox ]] || { echo "/bin/busybox is missing: apt-get install busybox-static (irlab engine build --kind installs it)" >&2; exit 1; }',
    'r=$(mktemp -d); trap \'rm -rf "$r"\' EXIT',
    'mkdir -p "$r/bin" "$r/tmp" "$r/www" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/root"',
    'cp /bin/busybox "$r/bin/"',
    `for a in ${APPLETS.join(' ')}; do ln -s busybox "$r/bin/$a"; done`,
    `printf %s ${Buffer.from(ENTRYPOINT).toString('base64')} | base64 -d >"$r/bin/irlab-workload"; chmod 755 "$r/bin/irlab-workload"`,
    'echo ok >"$r/www/index.html"',
    "printf 'root:x:0:0:root:/root:/bin/sh\\n' >\"$r/etc/passwd\"",
    'tar -C "$r" -c . | "$0" import -c "ENV PATH=/bin" -c "ENTRYPOINT [\\"/bin/irlab-workload\\"]" - "$2" >/dev/null',
  ].join('\n');
  await shell(node, build, `building the scenario stand-in image ${WORKLOAD_IMAGE}`);
}

/** Puts the stand-in in the node's containerd (once) and tags it with every name in `images`. */
export async function provideImages(node: KindNode, images: string[]): Promise<void> {
  await ensureWorkloadImage(node);
  const target = normalizeImage(WORKLOAD_IMAGE);
  const listed = await must(node, ['exec', node.container, 'ctr', '-n', 'k8s.io', 'images', 'list', '-q', `name==${target}`], 'listing the node\'s images');
  if (!listed.trim()) {
    await shell(node, 'set -euo pipefail; "$0" save "$2" | "$0" exec -i "$1" ctr -n k8s.io images import --digests --snapshotter=overlayfs - >/dev/null', `loading ${WORKLOAD_IMAGE} into node ${node.container}`);
  }
  const names = [...new Set(images.map(normalizeImage))].filter((image) => image !== target);
  if (names.length) await must(node, ['exec', node.container, 'ctr', '-n', 'k8s.io', 'images', 'tag', '--force', target, ...names], 'tagging the scenario\'s images in the node');
}

/** The running container's id (containerd's), from the pod's status. */
export async function containerIdOf(node: KindNode, namespace: string, pod: string, container: string): Promise<string> {
  const out = await must(node, ['exec', node.container, 'crictl', 'ps', '-q', '--state', 'Running', '--namespace', namespace, '--pod', await podIdOf(node, namespace, pod), '--name', `^${container}$`], `finding container ${container} of pod ${namespace}/${pod}`);
  const id = out.trim().split('\n')[0];
  if (!id || !/^[0-9a-f]{12,64}$/.test(id)) throw new ClusterError(`pod ${namespace}/${pod} has no running container ${container} on node ${node.container}`);
  return id;
}

async function podIdOf(node: KindNode, namespace: string, pod: string): Promise<string> {
  const out = await must(node, ['exec', node.container, 'crictl', 'pods', '-q', '--state', 'Ready', '--namespace', namespace, '--name', `^${pod}$`], `finding pod ${namespace}/${pod}`);
  const id = out.trim().split('\n')[0];
  if (!id || !/^[0-9a-f]{12,64}$/.test(id)) throw new ClusterError(`pod ${namespace}/${pod} is not ready on node ${node.container}`);
  return id;
}

/** Copies a directory's files into a running container's root filesystem, as its root user. */
export async function writeContainerFiles(node: KindNode, containerId: string, sourceDir: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'irlab-pod-files-'));
  try {
    const archive = join(work, 'files.tar');
    const tar = await node.runner.run('tar', ['-C', sourceDir, '--owner=0', '--group=0', '-cf', archive, '.'], { timeoutMs: 60_000 });
    if (tar.code !== 0) throw new ClusterError(`packing the pod's files failed: ${tar.stderr.trim()}`);
    const rootfs = `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${containerId}/rootfs`;
    await must(node, ['exec', node.container, 'sh', '-c', 'printf %s "$1" | base64 -d | tar -x -C "$2"', 'sh', (await readFile(archive)).toString('base64'), rootfs], 'writing the pod\'s files into its container');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes the container log the kubelet serves to `kubectl logs` (CRI format), before anything the container printed. */
export async function writeContainerLogText(node: KindNode, pod: { namespace: string; name: string; uid: string }, container: string, text: string): Promise<void> {
  const file = `/var/log/pods/${pod.namespace}_${pod.name}_${pod.uid}/${container}/0.log`;
  const script = 'f="$1"; [ -f "$f" ] || { echo "no log file $f" >&2; exit 1; }; t=$(mktemp); printf %s "$2" | base64 -d >"$t"; cat "$f" >>"$t"; cat "$t" >"$f"; rm -f "$t"';
  await must(node, ['exec', node.container, 'sh', '-c', script, 'sh', file, Buffer.from(text).toString('base64')], 'writing the container log');
}

/** Where kubeadm's kubelet keeps its rotated client credential (certificate and key in one PEM). */
export const KUBELET_CLIENT_PEM = '/var/lib/kubelet/pki/kubelet-client-current.pem';

/**
 * The node's own identity as an attacker with root on it takes it: the kubelet's client
 * certificate and key, read inside the node container (never through the API, so the learner's
 * audit log shows no platform request for it), and the node's name as the API server knows it.
 */
export async function kubeletCredentialOf(node: KindNode): Promise<{ nodeName: string; pem: string; certificate: string; key: string }> {
  const pem = await must(node, ['exec', node.container, 'cat', KUBELET_CLIENT_PEM], 'reading the kubelet\'s client credential on the node', 30_000);
  const certificate = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.join('') ?? '';
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----\n?/.exec(pem)?.[0] ?? '';
  if (!certificate || !key) throw new ClusterError(`${KUBELET_CLIENT_PEM} on node ${node.container} holds no certificate and key`);
  return { nodeName: node.container, pem, certificate, key };
}

/**
 * Writes files at their paths under the node's `/` (what an attacker with root on the node left).
 * Only the files go into the archive, never a directory entry, so no existing directory of the
 * node (`/`, `/etc`, `/tmp`) has its mode or owner changed by the extraction.
 */
export async function writeNodeFiles(node: KindNode, sourceDir: string, relativeFiles: readonly string[]): Promise<void> {
  if (!relativeFiles.length) return;
  const work = await mkdtemp(join(tmpdir(), 'irlab-node-files-'));
  try {
    const archive = join(work, 'files.tar');
    const tar = await node.runner.run('tar', ['-C', sourceDir, '--owner=0', '--group=0', '--no-recursion', '-cf', archive, '--', ...relativeFiles], { timeoutMs: 60_000 });
    if (tar.code !== 0) throw new ClusterError(`packing the node's files failed: ${tar.stderr.trim()}`);
    await must(node, ['exec', node.container, 'sh', '-c', 'printf %s "$1" | base64 -d | tar --no-overwrite-dir -x -C /', 'sh', (await readFile(archive)).toString('base64')], 'writing the attacker\'s files on the node');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
