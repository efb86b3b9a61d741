// How we drive kwokctl's binary runtime, and where it keeps a cluster's files.
// Layout (kwokctl v0.8, KWOK_WORKDIR=<cache>/kwok):
//   clusters/<name>/kwok.yaml          saved KwokctlConfiguration (components + args)
//   clusters/<name>/kubeconfig.yaml    admin kubeconfig (client certs)
//   clusters/<name>/audit.yaml         the policy kube-apiserver reads (--audit-policy-file)
//   clusters/<name>/logs/audit.log     audit log (--audit-log-path)
//   clusters/<name>/logs/<component>.log, pids/<component>.pid

import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import type { Runner, RunResult } from './runtime.ts';

export interface ClusterPaths {
  dir: string;
  kwokConfig: string;
  kubeconfig: string;
  auditPolicy: string;
  auditLog: string;
  pidsDir: string;
  logsDir: string;
  /**
   * kwokctl's input files while it creates the cluster (kwokctl copies them into `dir`): beside
   * the clusters rather than in the system's temp dir, so a server killed mid-create leaves them
   * where deleting (or reaping) the cluster by name removes them.
   */
  inputDir: string;
}

export function clusterPaths(workDir: string, name: string): ClusterPaths {
  const dir = join(workDir, 'clusters', name);
  return {
    dir,
    kwokConfig: join(dir, 'kwok.yaml'),
    kubeconfig: join(dir, 'kubeconfig.yaml'),
    auditPolicy: join(dir, 'audit.yaml'),
    auditLog: join(dir, 'logs', 'audit.log'),
    pidsDir: join(dir, 'pids'),
    logsDir: join(dir, 'logs'),
    inputDir: join(workDir, 'inputs', name),
  };
}

/**
 * Limits of each pod exec (engine/podsandbox/cgroup.go), handed to the sandbox through
 * kwokctl's environment; an omitted field keeps the sandbox's default.
 */
export interface PodBudget {
  /** Tasks (processes and threads); default 256. */
  pids?: number;
  /** Memory, no swap; default 256 MiB. */
  memoryBytes?: number;
  /** cgroup v2 cpu.weight, 1-10000 (v1: shares = weight * 1024 / 100); default 50. */
  cpuWeight?: number;
}

export function podBudgetEnv(budget: PodBudget = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (budget.pids !== undefined) env['IRLAB_POD_PIDS_MAX'] = String(budget.pids);
  if (budget.memoryBytes !== undefined) env['IRLAB_POD_MEMORY_MAX'] = String(budget.memoryBytes);
  if (budget.cpuWeight !== undefined) env['IRLAB_POD_CPU_WEIGHT'] = String(budget.cpuWeight);
  return env;
}

/**
 * Environment for every kwokctl call. Binaries are passed explicitly and the
 * cache bin dir leads PATH (kwokctl looks kubectl up on PATH first). The proxy
 * variables point at a closed loopback port so that, should kwokctl ever try a
 * download, it fails at once instead of reaching the internet; loopback
 * traffic between components never goes through a proxy.
 */
export function kwokctlEnv(base: NodeJS.ProcessEnv, binDir: string, workDir: string, podBudget?: PodBudget): NodeJS.ProcessEnv {
  const closed = 'http://127.0.0.1:9';
  return {
    ...base,
    ...podBudgetEnv(podBudget),
    PATH: [binDir, base['PATH'] ?? ''].filter(Boolean).join(delimiter),
    KWOK_WORKDIR: workDir,
    KWOK_KUBECTL_BINARY: join(binDir, 'kubectl'),
    HTTP_PROXY: closed,
    HTTPS_PROXY: closed,
    http_proxy: closed,
    https_proxy: closed,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

export function createClusterArgs(
  name: string,
  binDir: string,
  files: { auditPolicy: string; kwokctlConfig: string },
  timeoutMs: number,
  podSandboxBinary: string,
): string[] {
  const bin = (file: string) => join(binDir, file);
  return [
    `--config=${files.kwokctlConfig}`,
    'create',
    'cluster',
    `--name=${name}`,
    '--runtime=binary',
    '--secure-port=true',
    // Real RBAC: labs grade what ServiceAccounts may and may not do.
    '--kube-authorization=true',
    '--kube-admission=true',
    `--kube-audit-policy=${files.auditPolicy}`,
    // Empty: never add a context to the user's ~/.kube/config.
    '--kubeconfig=',
    `--kube-apiserver-binary=${bin('kube-apiserver')}`,
    `--kube-controller-manager-binary=${bin('kube-controller-manager')}`,
    `--kube-scheduler-binary=${bin('kube-scheduler')}`,
    // kwok-controller runs inside the pod sandbox supervisor (engine/podsandbox).
    `--kwok-controller-binary=${bin(podSandboxBinary)}`,
    `--etcd-binary=${bin('etcd')}`,
    '--quiet-pull=true',
    `--timeout=${Math.ceil(timeoutMs / 1000)}s`,
  ];
}

export class Kwokctl {
  readonly binDir: string;
  readonly workDir: string;
  private readonly runner: Runner;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: { runner: Runner; binDir: string; workDir: string; env: NodeJS.ProcessEnv; podBudget?: PodBudget }) {
    this.runner = options.runner;
    this.binDir = options.binDir;
    this.workDir = options.workDir;
    this.env = kwokctlEnv(options.env, options.binDir, options.workDir, options.podBudget);
  }

  run(args: readonly string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<RunResult> {
    return this.runner.run(join(this.binDir, 'kwokctl'), args, { env: this.env, ...options });
  }
}

export interface PidEntry {
  component: string;
  pid: number;
  file: string;
}

export async function readPids(pidsDir: string): Promise<PidEntry[]> {
  let files: string[];
  try {
    files = await readdir(pidsDir);
  } catch {
    return [];
  }
  const entries: PidEntry[] = [];
  for (const file of files.filter((f) => f.endsWith('.pid')).sort()) {
    // A cluster being deleted removes its pid files between our readdir and this read.
    const text = await readFile(join(pidsDir, file), 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 0) entries.push({ component: file.slice(0, -4), pid, file: join(pidsDir, file) });
  }
  return entries;
}

export async function readPid(pidsDir: string, component: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(join(pidsDir, `${component}.pid`), 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export async function removePidFile(pidsDir: string, component: string): Promise<void> {
  await rm(join(pidsDir, `${component}.pid`), { force: true });
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * kwokctl delete insists on a kubeconfig to remove its context from (an
 * empty value fails with "empty path"); a file inside the cluster dir keeps it
 * away from ~/.kube/config and disappears with the dir.
 */
export function deleteClusterArgs(name: string, paths: ClusterPaths): string[] {
  return ['delete', 'cluster', `--name=${name}`, `--kubeconfig=${join(paths.dir, 'unused-kubeconfig.yaml')}`];
}

export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join('\n');
}
