// Where the cluster binaries live and which versions they are. engine/versions.env
// is the single source of truth shared with engine/build.sh.

import { accessSync, constants, readFileSync } from 'node:fs';
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
  // Runs kwok-controller and every pod exec in bubblewrap sandboxes (engine/podsandbox).
  'irlab-pod-sandbox',
] as const;

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
