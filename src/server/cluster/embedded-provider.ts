// The default provider: kwokctl's binary runtime runs real etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok-controller
// as local processes. No container engine, no downloads: every binary comes
// from the engine cache built by engine/build.sh.

import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import { swapAuditPolicy } from './apiserver-restart.ts';
import { readAuditLog } from './audit-log.ts';
import { loadAuditPolicy } from './audit-policy.ts';
import type { Problem, WatchTarget } from './cluster-watchdog.ts';
import { deadComponents, restartDeadComponents } from './component-restart.ts';
import { binDir, cacheRoot, embeddedBinaries, missingBinaries, readEngineVersions } from './binaries.ts';
import { createEmbeddedCluster, isPortConflict } from './embedded-create.ts';
import { apiServerReady, loadKubeConfig } from './kube.ts';
import { clusterPaths, deleteClusterArgs, Kwokctl, readPids, type ClusterPaths, type PodBudget } from './kwokctl.ts';
import { nodeRunner, pathExists as exists, processState, systemClock, waitUntil, type Clock, type ProviderRuntimeOptions, type Runner } from './runtime.ts';
import {
  ClusterError,
  type AuditEvent,
  type AuditLogOptions,
  type ClusterHealth,
  type ClusterInfo,
  type ClusterProvider,
  type CreateClusterOptions,
  providerCapabilities,
} from './types.ts';

export interface EmbeddedProviderOptions extends ProviderRuntimeOptions {
  /** Default: $KWOK_WORKDIR, else <cache>/kwok. Clusters live in <workDir>/clusters/<name>. */
  workDir?: string;
  signalProcess?: (pid: number, signal: NodeJS.Signals) => void;
  /** Limits of each `kubectl exec` in a pod; the pod sandbox's defaults when omitted. */
  podBudget?: PodBudget;
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
const DEFAULT_CREATE_TIMEOUT_MS = 120_000;
const PORT_RETRIES = 3;

export function randomClusterName(): string {
  return `lab-${randomBytes(3).toString('hex')}`;
}

export function checkClusterName(name: string): void {
  if (!NAME.test(name)) {
    throw new ClusterError(
      `invalid cluster name ${JSON.stringify(name)}`,
      'Use 1-40 lowercase letters, digits or dashes, starting and ending with a letter or digit.',
    );
  }
}

export class EmbeddedProvider implements ClusterProvider, WatchTarget {
  readonly name = 'embedded' as const;
  readonly capabilities = providerCapabilities('embedded');
  readonly binDir: string;
  readonly workDir: string;
  private readonly runner: Runner;
  private readonly clock: Clock;
  private readonly signalProcess: (pid: number, signal: NodeJS.Signals) => void;
  private readonly kwokctl: Kwokctl;
  private readonly swaps = new Map<string, Promise<void>>();
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: EmbeddedProviderOptions = {}) {
    const env = options.env ?? process.env;
    this.env = env;
    this.runner = options.runner ?? nodeRunner;
    this.clock = options.clock ?? systemClock;
    this.binDir = options.binDir ?? binDir(readEngineVersions(env), env);
    this.workDir = options.workDir ?? env['KWOK_WORKDIR'] ?? join(cacheRoot(env), 'kwok');
    this.signalProcess = options.signalProcess ?? ((pid, signal) => process.kill(pid, signal));
    this.kwokctl = new Kwokctl({ runner: this.runner, binDir: this.binDir, workDir: this.workDir, env, podBudget: options.podBudget });
  }

  async available(): Promise<{ ok: boolean; problems: string[] }> {
    const problems: string[] = [];
    const missing = missingBinaries(this.binDir, embeddedBinaries(this.env));
    if (missing.length) problems.push(`missing in ${this.binDir}: ${missing.join(', ')}; run \`irlab engine build\` to build them`);
    // Pods' exec sandboxes (engine/podsandbox) and every pod's userland.
    const path = (this.env['PATH'] ?? '').split(delimiter).filter(Boolean);
    if (!path.some((dir) => missingBinaries(dir, ['bwrap']).length === 0)) {
      problems.push('bubblewrap (bwrap) is not installed; `irlab engine build` installs it (Debian: apt-get install bubblewrap)');
    }
    if (missingBinaries('/bin', ['busybox']).length) {
      problems.push('/bin/busybox is missing; `irlab engine build` installs it (Debian: apt-get install busybox-static)');
    }
    return { ok: problems.length === 0, problems };
  }

  async create(options: CreateClusterOptions = {}): Promise<ClusterInfo> {
    const name = options.name ?? randomClusterName();
    checkClusterName(name);
    const paths = clusterPaths(this.workDir, name);
    const deadline = this.clock.now() + (options.timeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS);
    for (let attempt = 1; ; attempt++) {
      try {
        await createEmbeddedCluster({
          name,
          paths,
          binDir: this.binDir,
          kwokctl: this.kwokctl,
          clock: this.clock,
          options,
          deadline,
          destroy: () => this.destroy(name, paths),
        });
        return this.info(name, paths);
      } catch (err) {
        // Ports are checked free, then bound by the components a moment later;
        // another process can slip in between. The failed attempt has already
        // been removed, so simply try again with new ports.
        if (attempt >= PORT_RETRIES || !isPortConflict(err) || this.clock.now() >= deadline) throw err;
        options.onStep?.(`retry ${attempt + 1}/${PORT_RETRIES}: a port was taken by another process`);
      }
    }
  }

  async delete(name: string): Promise<void> {
    const paths = clusterPaths(this.workDir, name);
    // A create killed before kwokctl made the cluster dir leaves only its inputs.
    await rm(paths.inputDir, { recursive: true, force: true });
    if (!(await exists(paths.dir))) {
      throw new ClusterError(`no embedded cluster named ${name}`, 'See `irlab cluster list`.');
    }
    await this.destroy(name, paths);
  }

  /**
   * kwokctl delete stops components and removes the cluster dir; anything it
   * leaves (a process it lost track of, a dir it could not remove) is then
   * removed here, and the result is checked rather than assumed.
   */
  private async destroy(name: string, paths: ClusterPaths): Promise<void> {
    checkClusterName(name);
    const pids = await readPids(paths.pidsDir);
    const result = await this.kwokctl.run(deleteClusterArgs(name, paths), { timeoutMs: 60_000 });
    for (const { pid } of pids) {
      if (processState(pid) === 'running') this.signalProcess(pid, 'SIGKILL');
    }
    await rm(paths.dir, { recursive: true, force: true });
    await rm(paths.inputDir, { recursive: true, force: true });
    const survivors = pids.filter(({ pid }) => processState(pid) === 'running');
    if (survivors.length) {
      await waitUntil(async () => survivors.every(({ pid }) => processState(pid) !== 'running'), {
        timeoutMs: 5_000,
        clock: this.clock,
        what: `processes of ${name} to exit`,
      }).catch(() => {
        const still = survivors.map((s) => `${s.component}=${s.pid}`).join(', ');
        throw new ClusterError(`cluster ${name}: processes still running after delete: ${still}`, 'Kill them by pid.');
      });
    }
    if (result.code !== 0 && (await exists(paths.dir))) {
      throw new ClusterError(`kwokctl delete cluster ${name} failed: ${result.stderr.trim()}`);
    }
  }

  async list(): Promise<ClusterInfo[]> {
    let names: string[];
    try {
      names = await readdir(join(this.workDir, 'clusters'));
    } catch {
      return [];
    }
    const infos: ClusterInfo[] = [];
    for (const name of names.sort()) {
      const paths = clusterPaths(this.workDir, name);
      if (await exists(paths.kwokConfig)) infos.push(this.info(name, paths));
    }
    return infos;
  }

  async kubeconfig(name: string): Promise<string> {
    const paths = await this.existing(name);
    return paths.kubeconfig;
  }

  async *auditLog(name: string, options: AuditLogOptions = {}): AsyncGenerator<AuditEvent> {
    const paths = await this.existing(name);
    yield* readAuditLog(paths.auditLog, { ...options, clock: this.clock });
  }

  setAuditPolicy(name: string, policyPath: string): Promise<void> {
    return this.oneAtATime(name, () => this.swapPolicy(name, policyPath));
  }

  /**
   * Restarts of a cluster's API server one after another: two swaps at once would each restore
   * the other's policy on failure, and the watchdog must not repair what a swap stopped on purpose.
   */
  private async oneAtATime(name: string, work: () => Promise<void>): Promise<void> {
    const previous = this.swaps.get(name) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(work);
    this.swaps.set(name, mine);
    try {
      await mine;
    } finally {
      if (this.swaps.get(name) === mine) this.swaps.delete(name);
    }
  }

  /** Watchdog: components of `name` without a live process (reads pid files and /proc only). */
  deadComponents(name: string): Promise<string[]> {
    checkClusterName(name);
    return deadComponents(clusterPaths(this.workDir, name));
  }

  /** Watchdog: GET /readyz answered ok. */
  ready(name: string): Promise<boolean> {
    checkClusterName(name);
    return apiServerReady(loadKubeConfig(clusterPaths(this.workDir, name).kubeconfig));
  }

  /** Watchdog: an audit-policy swap is restarting the API server on purpose. */
  busy(name: string): boolean {
    return this.swaps.has(name);
  }

  /** Watchdog: starts the dead components again (and a hung API server); throws when it could not. */
  repair(name: string, problem: Problem): Promise<void> {
    return this.oneAtATime(name, async () => {
      const paths = await this.existing(name);
      const kc = loadKubeConfig(paths.kubeconfig);
      await restartDeadComponents(
        { name, paths, kwokctl: this.kwokctl, clock: this.clock, ready: () => apiServerReady(kc), signalProcess: this.signalProcess, readyTimeoutMs: 60_000 },
        problem,
      );
    });
  }

  private async swapPolicy(name: string, policyPath: string): Promise<void> {
    const paths = await this.existing(name);
    const text = await loadAuditPolicy(policyPath);
    const kc = loadKubeConfig(paths.kubeconfig);
    await swapAuditPolicy(
      {
        name,
        paths,
        kwokctl: this.kwokctl,
        clock: this.clock,
        ready: () => apiServerReady(kc),
        signalProcess: this.signalProcess,
        readyTimeoutMs: 60_000,
      },
      text,
    );
  }

  async health(name: string): Promise<ClusterHealth> {
    const paths = await this.existing(name);
    const components = (await readPids(paths.pidsDir)).map(({ component, pid }) => ({
      name: component,
      pid,
      running: processState(pid) === 'running',
    }));
    try {
      const ready = await apiServerReady(loadKubeConfig(paths.kubeconfig));
      return { name, apiServerReady: ready, components, ...(ready ? {} : { detail: '/readyz did not answer ok' }) };
    } catch (err) {
      return { name, apiServerReady: false, components, detail: (err as Error).message };
    }
  }

  private async existing(name: string): Promise<ClusterPaths> {
    checkClusterName(name);
    const paths = clusterPaths(this.workDir, name);
    if (!(await exists(paths.kwokConfig))) {
      throw new ClusterError(`no embedded cluster named ${name}`, 'See `irlab cluster list`.');
    }
    return paths;
  }

  private info(name: string, paths: ClusterPaths): ClusterInfo {
    return { name, provider: 'embedded', kubeconfigPath: paths.kubeconfig, auditLogPath: paths.auditLog, dir: paths.dir };
  }
}
