// Where the cluster binaries live and which versions they are. engine/versions.env
// is the single source of truth shared with engine/build.sh.

import { createHash } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ClusterError } from './types.ts';

export interface EngineVersions {
  k8s: string;
  etcd: string;
  kwok: string;
  kind: string;
}

export const EMBEDDED_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'kwokctl',
] as const;

/**
 * The pod sandbox binary (engine/podsandbox: runs kwok-controller and every pod exec in
 * bubblewrap sandboxes). engine/build.sh names it by a hash of its sources, so checkouts of
 * different versions sharing one cache each find their own: sha256 of go.mod, then every
 * `*.go` file in byte order, first 16 hex digits.
 */
export function podSandboxBinaryName(env: NodeJS.ProcessEnv = process.env): string {
  const dir = join(engineDir(env), 'podsandbox');
  const hash = createHash('sha256').update(readFileSync(join(dir, 'go.mod')));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.go')).sort()) hash.update(readFileSync(join(dir, file)));
  return `irlab-pod-sandbox-${hash.digest('hex').slice(0, 16)}`;
}

/** Everything an embedded cluster runs, the pod sandbox of this checkout included. */
export function embeddedBinaries(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...EMBEDDED_BINARIES, podSandboxBinaryName(env)];
}

export function engineDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['IRLAB_ENGINE_DIR'] ?? fileURLToPath(new URL('../../../engine/', import.meta.url));
}

export function parseVersionsEnv(text: string): EngineVersions {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (key: string): string => {
    const value = values.get(key);
    if (!value) throw new ClusterError(`engine/versions.env has no ${key}`);
    return value;
  };
  return { k8s: get('K8S_VERSION'), etcd: get('ETCD_VERSION'), kwok: get('KWOK_VERSION'), kind: get('KIND_VERSION') };
}

export function readEngineVersions(env: NodeJS.ProcessEnv = process.env): EngineVersions {
  return parseVersionsEnv(readFileSync(join(engineDir(env), 'versions.env'), 'utf8'));
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env['IRLAB_CACHE'] ?? join(env['HOME'] ?? homedir(), '.cache', 'irlab');
}

export function binDir(versions: EngineVersions, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'bin', versions.k8s);
}

export function missingBinaries(dir: string, names: readonly string[]): string[] {
  return names.filter((name) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

export function assertBinaries(dir: string, names: readonly string[]): void {
  const missing = missingBinaries(dir, names);
  if (missing.length) {
    throw new ClusterError(
      `missing cluster binaries in ${dir}: ${missing.join(', ')}`,
      'Build them once with `irlab engine build` (needs Go >= 1.26 and the Go module proxy; about 30-60 min on 2 cores).',
    );
  }
}
