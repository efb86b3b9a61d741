/**
 * Makes a kubeconfig self-contained before it is copied into a learner's workspace: certificate
 * and key *files* it refers to live outside the sandbox, so they are inlined as `*-data` fields
 * (what `kubectl config view --flatten --raw` does). Only the current context's cluster and user
 * are kept, so a kubeconfig that lists several clusters never leaks the others into a workspace.
 */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';

type Entry = Record<string, unknown>;
interface Named { name: string; [key: string]: unknown }

const FILE_FIELDS: Array<[file: string, data: string]> = [
  ['certificate-authority', 'certificate-authority-data'],
  ['client-certificate', 'client-certificate-data'],
  ['client-key', 'client-key-data'],
];

async function inlineFiles(entry: Entry, baseDir: string): Promise<Entry> {
  const out: Entry = { ...entry };
  for (const [fileField, dataField] of FILE_FIELDS) {
    const file = out[fileField];
    if (typeof file !== 'string') continue;
    const content = await readFile(path.resolve(baseDir, file));
    out[dataField] = content.toString('base64');
    delete out[fileField];
  }
  if (typeof out.tokenFile === 'string') {
    out.token = (await readFile(path.resolve(baseDir, out.tokenFile), 'utf8')).trim();
    delete out.tokenFile;
  }
  return out;
}

function named(list: unknown, name: unknown): Named | undefined {
  return Array.isArray(list) ? (list as Named[]).find((item) => item?.name === name) : undefined;
}

/** Reads `kubeconfigPath` and returns a flattened, single-context kubeconfig as YAML. */
export async function flattenKubeconfig(kubeconfigPath: string): Promise<string> {
  const text = await readFile(kubeconfigPath, 'utf8');
  const config = parse(text) as Entry | null;
  if (!config || typeof config !== 'object') throw new Error(`${kubeconfigPath} is not a kubeconfig (empty or not a YAML mapping)`);
  const contextName = config['current-context'] ?? (config.contexts as Named[] | undefined)?.[0]?.name;
  const context = named(config.contexts, contextName);
  if (!context) throw new Error(`${kubeconfigPath} has no context ${JSON.stringify(contextName)}; set current-context`);
  const ctx = (context.context ?? {}) as Entry;
  const cluster = named(config.clusters, ctx.cluster);
  const user = named(config.users, ctx.user);
  if (!cluster) throw new Error(`${kubeconfigPath}: context ${String(contextName)} names cluster ${JSON.stringify(ctx.cluster)}, which is not defined`);
  const baseDir = path.dirname(kubeconfigPath);
  const flat = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': context.name,
    contexts: [context],
    clusters: [{ ...cluster, cluster: await inlineFiles((cluster.cluster ?? {}) as Entry, baseDir) }],
    users: user ? [{ ...user, user: await inlineFiles((user.user ?? {}) as Entry, baseDir) }] : [],
    preferences: {},
  };
  return stringify(flat);
}

/**
 * Creates a session's kubeconfig file under the server's own directory (never a path a learner
 * can reach or pre-arrange): O_EXCL | O_NOFOLLOW, so an existing file or link is an error rather
 * than a target, then handed to the sandbox user through the descriptor (fchown).
 */
export async function writeSessionKubeconfig(file: string, content: string, owner: { uid: number; gid: number } | null): Promise<void> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  const handle = await open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(content);
    if (owner) await handle.chown(owner.uid, owner.gid);
  } finally {
    await handle.close();
  }
}
