/**
 * Makes a kubeconfig self-contained before it is copied into a learner's workspace: certificate
 * and key *files* it refers to live outside the sandbox, so they are inlined as `*-data` fields
 * (what `kubectl config view --flatten --raw` does). Only the current context's cluster and user
 * are kept, so a kubeconfig that lists several clusters never leaks the others into a workspace.
 */
import { readFile } from 'node:fs/promises';
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
