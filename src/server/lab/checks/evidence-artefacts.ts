/**
 * Whether a saved file is the real output of `kubectl get pod -o yaml` or `kubectl describe pod`
 * for the compromised pod: parsed and compared field by field with the pod as the cluster holds
 * it (or, once it is gone, as the answer key recorded it at seeding). A file that only carries
 * the identifying lines (`kind: Pod` and a uid, `Name:` and `Namespace:`) is not evidence.
 *
 * Messages name the fields that differ or are missing, never their expected values: which pod
 * was compromised is something the learner finds out in the contain step.
 */
import { parse } from 'yaml';

/** The compromised pod's facts a real output must agree with; absent ones are not known. */
export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  serviceAccount: string;
  containers: Array<{ name: string; image: string }>;
  nodeName?: string;
  creationTimestamp?: string;
  /** The live object's resourceVersion: a saved copy cannot be newer. */
  resourceVersion?: string;
}

export interface ArtefactVerdict {
  /** The file is about another pod (or no pod at all). */
  otherPod: boolean;
  /** Fields missing or different from the pod's (paths only, never values). */
  wrong: string[];
}

interface PodDoc {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; uid?: unknown; creationTimestamp?: unknown; resourceVersion?: unknown };
  spec?: { serviceAccountName?: unknown; nodeName?: unknown; containers?: Array<{ name?: unknown; image?: unknown }> };
  status?: { podIP?: unknown };
  items?: PodDoc[];
}

function timeEqual(a: unknown, b: string): boolean {
  const x = a instanceof Date ? a.getTime() : typeof a === 'string' ? Date.parse(a) : NaN;
  return Number.isFinite(x) && x === Date.parse(b);
}

/** pod-evidence.yaml: a Pod (or a List holding it) whose metadata, spec and status are the pod's. */
export function judgeManifest(text: string, pod: PodFacts): ArtefactVerdict & { notYaml: boolean } {
  let doc: PodDoc | undefined;
  try {
    doc = parse(text, { maxAliasCount: 100 }) as PodDoc;
  } catch {
    return { notYaml: true, otherPod: true, wrong: [] };
  }
  if (doc && typeof doc === 'object' && doc.kind === 'List' && Array.isArray(doc.items)) doc = doc.items.find((item) => item?.metadata?.uid === pod.uid) ?? doc.items[0];
  if (!doc || typeof doc !== 'object' || doc.kind !== 'Pod') return { notYaml: true, otherPod: true, wrong: [] };
  const meta = doc.metadata ?? {};
  const spec = doc.spec ?? {};
  const wrong: string[] = [];
  if (doc.apiVersion !== 'v1') wrong.push('apiVersion');
  if (meta.name !== pod.name) wrong.push('metadata.name');
  if (meta.namespace !== pod.namespace) wrong.push('metadata.namespace');
  if (meta.uid !== pod.uid) wrong.push('metadata.uid');
  if (pod.creationTimestamp ? !timeEqual(meta.creationTimestamp, pod.creationTimestamp) : meta.creationTimestamp === undefined) wrong.push('metadata.creationTimestamp');
  const version = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
  // resourceVersions are opaque in general, but this cluster's are etcd revisions: a copy saved
  // earlier carries one no greater than the live object's.
  if (!version || (pod.resourceVersion && /^\d+$/.test(version) && /^\d+$/.test(pod.resourceVersion) && BigInt(version) > BigInt(pod.resourceVersion))) wrong.push('metadata.resourceVersion');
  if (spec.serviceAccountName !== pod.serviceAccount) wrong.push('spec.serviceAccountName');
  if (pod.nodeName ? spec.nodeName !== pod.nodeName : typeof spec.nodeName !== 'string') wrong.push('spec.nodeName');
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length !== pod.containers.length || pod.containers.some((c, i) => containers[i]?.name !== c.name)) wrong.push('spec.containers[].name');
  if (pod.containers.some((c, i) => containers[i]?.image !== c.image)) wrong.push('spec.containers[].image');
  if (doc.status?.podIP !== pod.ip) wrong.push('status.podIP');
  return { notYaml: false, otherPod: meta.uid !== pod.uid, wrong };
}

/** Top-level `Field: value` lines of describe output, and each field's indented block. */
function describeFields(text: string): Map<string, { value: string; block: string[] }> {
  const fields = new Map<string, { value: string; block: string[] }>();
  let current: { value: string; block: string[] } | undefined;
  for (const line of text.split('\n')) {
    const top = /^([A-Z][A-Za-z-]*(?: [A-Za-z-]+)*):\s*(.*?)\s*$/.exec(line);
    if (top) {
      current = { value: top[2] ?? '', block: [] };
      if (!fields.has(top[1]!)) fields.set(top[1]!, current);
    } else if (current && /^\s/.test(line)) current.block.push(line);
  }
  return fields;
}

/**
 * pod-describe.txt: the sections `kubectl describe pod` prints (Name, Namespace, Service Account,
 * Node, Labels, Status, IP, Containers with each container's Image, Volumes, Events; Conditions
 * is printed only when the pod has any),
 * each consistent with the pod.
 */
export function judgeDescribe(text: string, pod: PodFacts): ArtefactVerdict {
  const fields = describeFields(text);
  const value = (name: string) => fields.get(name)?.value;
  const wrong: string[] = [];
  const check = (name: string, ok: (v: string) => boolean) => {
    const v = value(name);
    if (v === undefined || !ok(v)) wrong.push(name);
  };
  check('Name', (v) => v === pod.name);
  check('Namespace', (v) => v === pod.namespace);
  check('Service Account', (v) => v === pod.serviceAccount);
  check('Node', (v) => (pod.nodeName ? v.split('/')[0] === pod.nodeName : v.length > 0));
  check('Labels', () => true);
  check('Status', (v) => v.length > 0);
  check('IP', (v) => v === pod.ip);
  const containers = fields.get('Containers')?.block ?? [];
  const imageOf = (name: string) => {
    const start = containers.findIndex((line) => line === `  ${name}:`);
    if (start < 0) return undefined;
    for (const line of containers.slice(start + 1)) {
      if (/^ {2}\S/.test(line)) return undefined;
      const image = /^ {4}Image:\s+(\S+)\s*$/.exec(line);
      if (image) return image[1];
    }
    return undefined;
  };
  if (!fields.has('Containers') || pod.containers.some((c) => imageOf(c.name) !== c.image)) wrong.push('Containers (each container\'s Image)');
  for (const section of ['Volumes', 'Events']) if (!fields.has(section)) wrong.push(section);
  return { otherPod: value('Name') !== pod.name || value('Namespace') !== pod.namespace, wrong };
}
