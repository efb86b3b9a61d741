// The kind provider: one kind node container running a kubeadm control plane
// with auditing on. Chosen when a Docker/Podman engine answers, or by
// `--provider kind`. Every step needs the engine, so the first step checks it
// and fails fast with what is missing and how to get it.

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { readAuditLog } from './audit-log.ts';
import { DEFAULT_AUDIT_POLICY, loadAuditPolicy } from './audit-policy.ts';
import { assertBinaries, binDir, cacheRoot, missingBinaries, readEngineVersions } from './binaries.ts';
import { firstWorkingEngine, missingEngineMessage, probeContainerEngines, type EngineName } from './container-engine.ts';
import { checkClusterName, randomClusterName } from './embedded-provider.ts';
import { kindClusterConfigYaml } from './kind-config.ts';
import { KIND_NODE_IMAGE_ENV, kindNodeImage } from './kind-node-image.ts';
import { apiServerReady, loadKubeConfig } from './kube.ts';
import { lastLines } from './kwokctl.ts';
import { nodeRunner, pathExists as exists, systemClock, waitUntil, type Clock, type ProviderRuntimeOptions, type Runner } from './runtime.ts';
import { runSteps } from './steps.ts';
import {
  AuditPolicyRejectedError,
  ClusterError,
  type AuditEvent,
  type AuditLogOptions,
  type ClusterHealth,
  type ClusterInfo,
  type ClusterProvider,
  type CreateClusterOptions,
} from './types.ts';

export interface KindProviderOptions extends ProviderRuntimeOptions {
  /** Where cluster dirs (config, policy, logs, kubeconfig) go; default <cache>/kind. */
  stateDir?: string;
  /** Node image; default $IRLAB_KIND_NODE_IMAGE, else the one the kind binary was built with. */
  nodeImage?: string;
}

interface KindPaths {
  dir: string;
  config: string;
  kubeconfig: string;
  policyDir: string;
  policy: string;
  logDir: string;
  auditLog: string;
}

export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const;
  private readonly runner: Runner;
  private readonly clock: Clock;
  private readonly env: NodeJS.ProcessEnv;
  private readonly binDir: string;
  private readonly stateDir: string;
  private readonly nodeImage: string | undefined;

  constructor(options: KindProviderOptions = {}) {
    this.env = options.env ?? process.env;
    this.runner = options.runner ?? nodeRunner;
    this.clock = options.clock ?? systemClock;
    this.binDir = options.binDir ?? binDir(readEngineVersions(this.env), this.env);
    this.stateDir = options.stateDir ?? join(cacheRoot(this.env), 'kind');
    this.nodeImage = options.nodeImage || this.env[KIND_NODE_IMAGE_ENV] || undefined;
  }

  /** The node image a create boots (configured, or kind's built-in default); undefined if unknown. */
  nodeImageRef(): Promise<string | undefined> {
    return kindNodeImage(join(this.binDir, 'kind'), this.env, this.nodeImage);
  }

  async available(): Promise<{ ok: boolean; problems: string[] }> {
    const problems: string[] = [];
    const probes = await probeContainerEngines(this.runner);
    if (!firstWorkingEngine(probes)) problems.push(missingEngineMessage(probes));
    if (missingBinaries(this.binDir, ['kind']).length) {
      problems.push(`kind is not in ${this.binDir}; run \`irlab engine build\``);
    }
    return { ok: problems.length === 0, problems };
  }

  async create(options: CreateClusterOptions = {}): Promise<ClusterInfo> {
    const name = options.name ?? randomClusterName();
    checkClusterName(name);
    const paths = this.paths(name);
    const timeoutMs = options.timeoutMs ?? 300_000;
    const deadline = this.clock.now() + timeoutMs;
    let engine: EngineName = 'docker';

    await runSteps(
      [
        {
          name: 'check container engine',
          run: async () => {
            const probes = await probeContainerEngines(this.runner);
            const found = firstWorkingEngine(probes);
            if (!found) throw new ClusterError(missingEngineMessage(probes));
            engine = found;
          },
        },
        { name: 'check binaries', run: async () => assertBinaries(this.binDir, ['kind']) },
        {
          name: 'write cluster config',
          run: async () => {
            if (await exists(paths.dir)) {
              throw new ClusterError(`cluster ${name} already exists (${paths.dir})`, `Delete it with \`irlab cluster delete ${name}\`.`);
            }
            const policy = options.auditPolicyPath ? await loadAuditPolicy(options.auditPolicyPath) : DEFAULT_AUDIT_POLICY;
            await mkdir(paths.policyDir, { recursive: true });
            await mkdir(paths.logDir, { recursive: true });
            await writeFile(paths.policy, policy, 'utf8');
            const config = kindClusterConfigYaml({
              policyHostDir: paths.policyDir,
              logHostDir: paths.logDir,
              ...(this.nodeImage ? { nodeImage: this.nodeImage } : {}),
            });
            await writeFile(paths.config, config, 'utf8');
          },
          cleanup: () => rm(paths.dir, { recursive: true, force: true }),
        },
        {
          name: 'kind create cluster',
          run: async () => {
            const left = Math.max(1_000, deadline - this.clock.now());
            const args = ['create', 'cluster', `--name=${name}`, `--config=${paths.config}`];
            args.push(`--kubeconfig=${paths.kubeconfig}`, `--wait=${Math.ceil(left / 1000)}s`);
            await this.kind(engine, args, left + 10_000);
          },
          cleanup: async () => {
            await this.kind(engine, ['delete', 'cluster', `--name=${name}`, `--kubeconfig=${paths.kubeconfig}`], 120_000);
          },
        },
        {
          name: 'wait for API server',
          run: () => this.waitReady(paths, Math.max(1_000, deadline - this.clock.now())),
        },
      ],
      { onStep: options.onStep },
    );
    return this.info(name, paths);
  }

  async delete(name: string): Promise<void> {
    const paths = await this.existing(name);
    const engine = await this.engineOrThrow();
    await this.kind(engine, ['delete', 'cluster', `--name=${name}`, `--kubeconfig=${paths.kubeconfig}`], 120_000);
    await rm(paths.dir, { recursive: true, force: true });
  }

  async list(): Promise<ClusterInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.stateDir);
    } catch {
      return [];
    }
    const infos: ClusterInfo[] = [];
    for (const name of names.sort()) {
      const paths = this.paths(name);
      if (await exists(paths.config)) infos.push(this.info(name, paths));
    }
    return infos;
  }

  async kubeconfig(name: string): Promise<string> {
    return (await this.existing(name)).kubeconfig;
  }

  async *auditLog(name: string, options: AuditLogOptions = {}): AsyncGenerator<AuditEvent> {
    const paths = await this.existing(name);
    yield* readAuditLog(paths.auditLog, { ...options, clock: this.clock });
  }

  /**
   * The API server is a kubelet static pod: moving its manifest out and back
   * makes the kubelet recreate it, re-reading the (directory-mounted) policy.
   * Untested on the development machine, which has no container engine.
   */
  async setAuditPolicy(name: string, policyPath: string): Promise<void> {
    const paths = await this.existing(name);
    const text = await loadAuditPolicy(policyPath);
    const engine = await this.engineOrThrow();
    const previous = await readFile(paths.policy, 'utf8');
    await writeFile(paths.policy, text, 'utf8');
    const first = await this.restartApiServer(engine, name, paths);
    if (first === null) return;
    await writeFile(paths.policy, previous, 'utf8');
    const second = await this.restartApiServer(engine, name, paths);
    if (second !== null) {
      throw new ClusterError(`kube-apiserver did not come back on the previous audit policy: ${second}`);
    }
    throw new AuditPolicyRejectedError(first);
  }

  async health(name: string): Promise<ClusterHealth> {
    const paths = await this.existing(name);
    try {
      const ready = await apiServerReady(loadKubeConfig(paths.kubeconfig));
      return { name, apiServerReady: ready, components: [] };
    } catch (err) {
      return { name, apiServerReady: false, components: [], detail: (err as Error).message };
    }
  }

  /** Returns null when the API server is ready again, else its last log lines. */
  private async restartApiServer(engine: EngineName, name: string, paths: KindPaths): Promise<string | null> {
    const node = `${name}-control-plane`;
    const manifest = '/etc/kubernetes/manifests/kube-apiserver.yaml';
    const parked = '/etc/kubernetes/kube-apiserver.yaml.irlab';
    await this.exec(engine, node, `mv ${manifest} ${parked}`);
    const kc = loadKubeConfig(paths.kubeconfig);
    await waitUntil(async () => !(await apiServerReady(kc, 1_000).catch(() => false)), {
      timeoutMs: 60_000,
      clock: this.clock,
      what: 'the old kube-apiserver to stop',
    });
    await this.exec(engine, node, `mv ${parked} ${manifest}`);
    try {
      await this.waitReady(paths, 90_000);
      return null;
    } catch {
      const logs = await this.runner.run(engine, ['exec', node, 'sh', '-c', apiServerLogsCommand()], { timeoutMs: 15_000 });
      return lastLines(`${logs.stdout}\n${logs.stderr}`, 10) || 'kube-apiserver did not become ready';
    }
  }

  private async exec(engine: EngineName, node: string, script: string): Promise<void> {
    const r = await this.runner.run(engine, ['exec', node, 'sh', '-c', script], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new ClusterError(`${engine} exec ${node} \`${script}\` failed: ${r.stderr.trim()}`);
  }

  private async waitReady(paths: KindPaths, timeoutMs: number): Promise<void> {
    const kc = loadKubeConfig(paths.kubeconfig);
    await waitUntil(() => apiServerReady(kc), { timeoutMs, clock: this.clock, what: 'kube-apiserver /readyz' });
  }

  private async kind(engine: EngineName, args: string[], timeoutMs: number): Promise<void> {
    const env = { ...this.env, ...(engine === 'podman' ? { KIND_EXPERIMENTAL_PROVIDER: 'podman' } : {}) };
    const r = await this.runner.run(join(this.binDir, 'kind'), args, { env, timeoutMs });
    if (r.code !== 0) {
      throw new ClusterError(`kind ${args.slice(0, 2).join(' ')} exited with ${r.code}:\n${lastLines(r.stderr, 15)}`);
    }
  }

  private async engineOrThrow(): Promise<EngineName> {
    const probes = await probeContainerEngines(this.runner);
    const engine = firstWorkingEngine(probes);
    if (!engine) throw new ClusterError(missingEngineMessage(probes));
    return engine;
  }

  private async existing(name: string): Promise<KindPaths> {
    checkClusterName(name);
    const paths = this.paths(name);
    if (!(await exists(paths.config))) throw new ClusterError(`no kind cluster named ${name}`, 'See `irlab cluster list`.');
    return paths;
  }

  private paths(name: string): KindPaths {
    const dir = join(this.stateDir, name);
    const policyDir = join(dir, 'policies');
    const logDir = join(dir, 'logs');
    return {
      dir,
      config: join(dir, 'kind.yaml'),
      kubeconfig: join(dir, 'kubeconfig.yaml'),
      policyDir,
      policy: join(policyDir, 'audit-policy.yaml'),
      logDir,
      auditLog: join(logDir, 'kube-apiserver-audit.log'),
    };
  }

  private info(name: string, paths: KindPaths): ClusterInfo {
    return { name, provider: 'kind', kubeconfigPath: paths.kubeconfig, auditLogPath: paths.auditLog, dir: paths.dir };
  }
}

/** crictl is in kind's node image; the newest kube-apiserver container holds the refusal. */
function apiServerLogsCommand(): string {
  return `id=$(crictl ps -a --name kube-apiserver -q | head -n1); [ -n "$id" ] && crictl logs --tail 20 "$id" 2>&1`;
}


