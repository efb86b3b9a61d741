/**
 * Writes the compromised pod's own filesystem and container log from the scenario's templates:
 * what `kubectl cp pod:/tmp` and `kubectl logs` will show the learner. The tree lives in the
 * cluster's directory (never in a learner's workspace); the pod runtime serves it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { containerIdOf, writeContainerFiles, writeContainerLogText, writeNodeFiles, type KindNode } from '../cluster/kind-workloads.ts';
import { chownTree, podPaths, type PodOwner } from '../cluster/pod-tree.ts';
import { fillString } from './template.ts';
import type { ParamValue } from './params.ts';

/**
 * Where a pod's tree (`rootfs`, `/` inside the pod) and its container logs (`logs/<container>.log`)
 * live inside a cluster's directory: the layout the pod runtime serves (cluster/pod-tree.ts).
 */
export function podDir(clusterDir: string, namespace: string, pod: string) {
  const { rootfs, logs } = podPaths(clusterDir, namespace, pod);
  return { rootfs, logs };
}

async function* walk(dir: string, prefix = ''): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) yield* walk(path.join(dir, entry.name), relative);
    else if (entry.isFile()) yield relative;
  }
}

export interface RenderedFile {
  /** Absolute path inside the pod, e.g. `/tmp/ci.token`. */
  path: string;
  sha256: string;
  bytes: number;
}

const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * With an owner (the pod's host uid, podOwner), the tree is then given to the pod's root. Files
 * are 0644, scripts (`.sh`) 0755, a file holding a private key 0600.
 */
export async function writePodTree(
  templateDir: string,
  rootfs: string,
  values: Record<string, ParamValue>,
  owner?: PodOwner,
): Promise<RenderedFile[]> {
  const files: RenderedFile[] = [];
  for await (const relative of walk(templateDir)) {
    const source = path.join(templateDir, relative);
    const content = String(fillString(await readFile(source, 'utf8'), values));
    const target = path.join(rootfs, relative);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    if (relative.endsWith('.sh')) await chmod(target, 0o755);
    // A private key keeps its owner's mode: the attacker's `cp` of the kubelet's 0600 credential
    // creates a 0600 copy, and a world-readable one would be a tell no real copy carries.
    else if (PRIVATE_KEY.test(content)) await chmod(target, 0o600);
    files.push({ path: `/${relative.split(path.sep).join('/')}`, sha256: createHash('sha256').update(content).digest('hex'), bytes: Buffer.byteLength(content) });
  }
  if (owner) await chownTree(rootfs, owner);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The container log in the CRI format the kubelet writes (`<RFC3339Nano> stdout F <line>`), the
 * lines spaced out over the minutes before `end` so they read like a real incident.
 */
export async function writeContainerLog(
  templateFile: string,
  logFile: string,
  values: Record<string, ParamValue>,
  end: Date,
  random: () => number,
): Promise<string[]> {
  const lines = String(fillString(await readFile(templateFile, 'utf8'), values))
    .split('\n')
    .filter((line) => line.trim() !== '');
  const gaps = lines.map(() => 2_000 + Math.floor(random() * 40_000));
  let at = end.getTime() - gaps.reduce((sum, gap) => sum + gap, 0);
  const cri = lines.map((line, index) => {
    at += gaps[index]!;
    const stamp = new Date(at).toISOString().replace('Z', `${String(Math.floor(random() * 1e6)).padStart(6, '0')}Z`);
    return `${stamp} ${line.startsWith('WARN') ? 'stderr' : 'stdout'} F ${line}`;
  });
  await mkdir(path.dirname(logFile), { recursive: true });
  await writeFile(logFile, `${cri.join('\n')}\n`);
  return lines;
}

/**
 * The same evidence in a real container on a kind node: the files rendered here, then unpacked
 * into the container's root filesystem; the log put where the kubelet reads it for `kubectl logs`.
 */
export async function writeEvidenceOnNode(
  node: KindNode,
  pod: { namespace: string; name: string; uid: string; container: string },
  templates: { files: string; log: string },
  /** Where the log is also kept on this machine: the checks read it after the pod is gone. */
  logFile: string,
  values: Record<string, ParamValue>,
  end: Date,
  random: () => number,
): Promise<{ files: RenderedFile[]; logLines: string[] }> {
  const staging = await mkdtemp(path.join(tmpdir(), 'irlab-evidence-'));
  try {
    const files = await writePodTree(templates.files, path.join(staging, 'rootfs'), values);
    await writeContainerFiles(node, await containerIdOf(node, pod.namespace, pod.name, pod.container), path.join(staging, 'rootfs'));
    const logLines = await writeContainerLog(templates.log, logFile, values, end, random);
    await writeContainerLogText(node, pod, pod.container, await readFile(logFile, 'utf8'));
    return { files, logLines };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * What the attacker left on the node itself (kind): the templates rendered here, then written at
 * their paths under the node's `/`. Returns each file's path on the node and its SHA-256 for the
 * answer key (a copied private key is hashed, never stored).
 */
export async function writeNodeEvidence(node: KindNode, templateDir: string, values: Record<string, ParamValue>): Promise<RenderedFile[]> {
  const staging = await mkdtemp(path.join(tmpdir(), 'irlab-node-evidence-'));
  try {
    const files = await writePodTree(templateDir, staging, values);
    await writeNodeFiles(node, staging, files.map((file) => file.path.slice(1)));
    return files;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
