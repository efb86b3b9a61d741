// The kind provider: one kind node container running a kubeadm control plane
// with auditing on, real containers and enforced NetworkPolicy (kube-router,
// from the node image irlab builds offline: engine/kind/build.sh). Chosen when
// a Docker/Podman engine answers with the node image in it, or by
// `--provider kind`, which starts irlab's own dockerd when no engine answers
// (kind-engine.ts). Every step needs the engine, so the first step gets it and
// fails fast with what is missing and how to get it.

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { readAuditLog } from './audit-log.ts';
import { DEFAULT_AUDIT_POLICY, loadAuditPolicy } from './audit-policy.ts';
import { assertBinaries, binDir, cacheRoot, missingBinaries, readEngineVersions } from './binaries.ts';

import { missingEngineMessage } from './container-engine.ts';
import { checkClusterName, randomClusterName } from './embedded-provider.ts';
import { restartKindApiServer, resyncPolicyController } from './kind-apiserver-restart.ts';
import { ARMED_MANIFEST, boundaryFiles } from './kind-boundary.ts';
import { kindClusterConfigYaml } from './kind-config.ts';
import { answeringEngine, builtNodeImage, ensureKindEngine, stopOurEngine, type KindEngine } from './kind-engine.ts';
import { KIND_NODE_IMAGE_ENV, kindNodeImage, nodeImagePresent } from './kind-node-image.ts';
import { grantLearnerAccess, issueBoundedCertificate } from './learner-access.ts';
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
  providerCapabilities,
} from './types.ts';

/** The certificate's common name: the learner's user name in their cluster's audit log. */
export const LEARNER_USER = 'learner';

export interface KindProviderOptions extends ProviderRuntimeOptions {
  /** Where cluster dirs (config, policy, logs, kubeconfig) go; default <cache>/kind. */
  stateDir?: string;
  /** Node image; default $IRLAB_KIND_NODE_IMAGE, else the one engine/kind/build.sh built, else kind's own. */
  nodeImage?: string;
  /**
   * Keep irlab's own dockerd running after the last cluster is deleted (a server or a benchmark
   * that creates the next one soon); by default it stops with the last cluster.
   */
  keepOurEngine?: boolean;
}

interface KindPaths {
  dir: string;
  config: string;
  kubeconfig: string;
  policyDir: string;
  policy: string;
  logDir: string;
  auditLog: string;
  /** The learner's own kubeconfig, once learnerAccess has given one. */
  learnerKubeconfig: string;
  /** The learner boundary's files (kind-boundary.ts); `staticPolicyDir` is armed after seeding. */
  admissionDir: string;
  staticPolicyDir: string;
}

export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const;
  readonly capabilities = providerCapabilities('kind');
  private readonly runner: Runner;
  private readonly clock: Clock;
  private readonly env: NodeJS.ProcessEnv;
  /** Where kind, kubectl and the engine's other binaries are. */
  readonly binDir: string;
  private readonly stateDir: string;
  private readonly nodeImage: string | undefined;
  private readonly keepOurEngine: boolean;

  constructor(options: KindProviderOptions = {}) {
    this.env = options.env ?? process.env;
    this.runner = options.runner ?? nodeRunner;
    this.clock = options.clock ?? systemClock;
    this.binDir = options.binDir ?? binDir(readEngineVersions(this.env), this.env);
    this.stateDir = options.stateDir ?? join(cacheRoot(this.env), 'kind');
    this.nodeImage = options.nodeImage || this.env[KIND_NODE_IMAGE_ENV] || undefined;
    this.keepOurEngine = options.keepOurEngine ?? false;
  }

  /** The node image a create boots (configured, built here, or kind's built-in default); undefined if unknown. */
  async nodeImageRef(): Promise<string | undefined> {
    return this.nodeImage || this.env[KIND_NODE_IMAGE_ENV] || (await builtNodeImage(this.env)) || kindNodeImage(join(this.binDir, 'kind'), this.env);
  }

  async available(): Promise<{ ok: boolean; problems: string[] }> {
    const problems: string[] = [];
    const { found, probes } = await answeringEngine(this.runner, this.env);
    // Ours can be started on demand once Debian's docker.io is installed.
    if (!found && !existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
      problems.push(`${probes.map((p) => `${p.engine}: ${p.detail}`).join('; ')}; and dockerd is not installed: run \`irlab engine build --kind\``);
    }
    if (missingBinaries(this.binDir, ['kind']).length) {
      problems.push(`kind is not in ${this.binDir}; run \`irlab engine build\``);
    }
    if (!(await this.nodeImageRef())) problems.push('no kind node image is built or configured: run `irlab engine build --kind`');
    return { ok: problems.length === 0, problems };
  }

  async create(options: CreateClusterOptions = {}): Promise<ClusterInfo> {
    const name = options.name ?? randomClusterName();
    checkClusterName(name);
    const paths = this.paths(name);
    const timeoutMs = options.timeoutMs ?? 300_000;
    const deadline = this.clock.now() + timeoutMs;
    let engine: KindEngine | undefined;
    let nodeImage = '';
    const ready = (): KindEngine => {
      if (!engine) throw new ClusterError('no container engine');
      return engine;
    };

    await runSteps(
      [
        {
          name: 'check container engine',
          run: async () => {
            engine = await ensureKindEngine(this.runner, this.env);
          },
          // Ours, started for this cluster alone, stops again when the create fails.
          cleanup: () => this.stopOursIfIdle(ready()),
        },
        { name: 'check binaries', run: async () => assertBinaries(this.binDir, ['kind']) },
        {
          name: 'node image',
          run: async () => {
            const image = await this.nodeImageRef();
            if (!image) throw new ClusterError('no kind node image is built or configured', 'Run `irlab engine build --kind`, or set IRLAB_KIND_NODE_IMAGE.');
            // kind pulls a missing image; no registry answers here, and a 1 GB pull is never what a lab wants.
            if (!(await nodeImagePresent(this.runner, ready().engine, image, 10_000, ready().env))) {
              throw new ClusterError(`the node image ${image} is not in the ${ready().engine} engine`, 'Run `irlab engine build --kind` (it builds the image offline into irlab\'s engine).');
            }
            nodeImage = image;
          },
        },
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
            await mkdir(paths.staticPolicyDir, { recursive: true });
            for (const file of boundaryFiles()) await writeFile(join(paths.admissionDir, file.path), file.content, 'utf8');
            const config = kindClusterConfigYaml({ policyHostDir: paths.policyDir, logHostDir: paths.logDir, admissionHostDir: paths.admissionDir, nodeImage });
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
            await this.kind(ready(), args, left + 10_000);
          },
          cleanup: () => this.removeCluster(ready(), name, paths),
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
    // A stopped engine of ours still holds the node container: start it to remove it.
    const engine = await ensureKindEngine(this.runner, this.env);
    await this.removeCluster(engine, name, paths);
    await rm(paths.dir, { recursive: true, force: true });
    await this.stopOursIfIdle(engine);
  }

  /**
   * Puts an image from the engine into the cluster's containerd (`kind load`): no registry is
   * reachable, so a pod's image must be there before the pod (with imagePullPolicy Never or
   * IfNotPresent).
   */
  async loadImage(name: string, image: string): Promise<void> {
    await this.existing(name);
    await this.kind(await this.engineOrThrow(), ['load', 'docker-image', image, `--name=${name}`], 180_000);
  }

  /** The node container, its volumes, and kind's network once no node is left on it. */
  private async removeCluster(engine: KindEngine, name: string, paths: KindPaths): Promise<void> {
    await this.kind(engine, ['delete', 'cluster', `--name=${name}`, `--kubeconfig=${paths.kubeconfig}`], 120_000);
    const members = await this.runner.run(engine.engine, ['network', 'inspect', 'kind', '--format', '{{len .Containers}}'], { env: engine.env, timeoutMs: 15_000 });
    if (members.code === 0 && members.stdout.trim() === '0') {
      await this.runner.run(engine.engine, ['network', 'rm', 'kind'], { env: engine.env, timeoutMs: 30_000 });
    }
  }

  /** Ours serves kind clusters only: once none is left (here or in the engine), it stops. */
  private async stopOursIfIdle(engine: KindEngine): Promise<void> {
    if (!engine.ours || this.keepOurEngine) return;
    if ((await this.list()).length) return;
    const nodes = await this.runner.run('docker', ['ps', '-aq', '--filter', 'label=io.x-k8s.kind.cluster'], { env: engine.env, timeoutMs: 15_000 });
    if (nodes.code !== 0 || nodes.stdout.trim()) return;
    await stopOurEngine(this.runner, this.env);
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
   * The API server re-reads the (directory-mounted) policy when the kubelet
   * replaces its static pod (kind-apiserver-restart.ts). Proved on a real kind
   * cluster by tests/kind-clusters/.
   */
  async setAuditPolicy(name: string, policyPath: string): Promise<void> {
    const paths = await this.existing(name);
    const text = await loadAuditPolicy(policyPath);
    const engine = await this.engineOrThrow();
    const previous = await readFile(paths.policy, 'utf8');
    await writeFile(paths.policy, text, 'utf8');
    const first = await this.restartApiServer(engine, name, paths);
    if (first === null) return resyncPolicyController(loadKubeConfig(paths.kubeconfig), this.clock);
    await writeFile(paths.policy, previous, 'utf8');
    const second = await this.restartApiServer(engine, name, paths);
    if (second !== null) {
      throw new ClusterError(`kube-apiserver did not come back on the previous audit policy: ${second}`);
    }
    await resyncPolicyController(loadKubeConfig(paths.kubeconfig), this.clock);
    throw new AuditPolicyRejectedError(first);
  }

  /**
   * Puts the learner's boundary in force: `manifest` (static ValidatingAdmissionPolicies and their
   * bindings, kind-boundary.ts) goes into the directory the API server watches, written beside and
   * renamed over so it never reads half a file. The caller waits until it is enforced
   * (learner-access.ts proves it with a dry run); there is no way back short of deleting the cluster.
   */
  async armLearnerBoundary(name: string, manifest: string): Promise<void> {
    const paths = await this.existing(name);
    const target = join(paths.staticPolicyDir, ARMED_MANIFEST);
    // A dot file: the API server loads only *.yaml, *.yml and *.json.
    const partial = join(paths.staticPolicyDir, `.${ARMED_MANIFEST}.partial`);
    await writeFile(partial, manifest, { encoding: 'utf8', mode: 0o644 });
    await rename(partial, target);
  }

  /**
   * Arms the learner boundary and issues the learner's certificate (learner-access.ts); the
   * kubeconfig is written 0600 beside the admin's. The audit log then names the learner
   * `LEARNER_USER`, apart from the platform's own requests.
   */
  async learnerAccess(name: string, signal?: AbortSignal): Promise<string> {
    const paths = await this.existing(name);
    if (existsSync(paths.learnerKubeconfig)) return paths.learnerKubeconfig;
    signal?.throwIfAborted();
    const learner = await grantLearnerAccess(loadKubeConfig(paths.kubeconfig), LEARNER_USER, (manifest) => this.armLearnerBoundary(name, manifest), { runner: this.runner });
    signal?.throwIfAborted();
    const partial = `${paths.learnerKubeconfig}.partial`;
    await writeFile(partial, learner.exportConfig(), { encoding: 'utf8', mode: 0o600 });
    await rename(partial, paths.learnerKubeconfig);
    return paths.learnerKubeconfig;
  }

  async boundedCertificate(name: string, identity: { user: string; groups: readonly string[] }, options: { days?: number; signal?: AbortSignal } = {}): Promise<{ certificatePem: string; keyPem: string }> {
    await this.learnerAccess(name, options.signal);
    options.signal?.throwIfAborted();
    const paths = await this.existing(name);
    return issueBoundedCertificate(loadKubeConfig(paths.kubeconfig), identity, { runner: this.runner, expirationSeconds: (options.days ?? 1) * 86_400 });
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
  private restartApiServer(engine: KindEngine, name: string, paths: KindPaths): Promise<string | null> {
    return restartKindApiServer({
      runner: this.runner,
      clock: this.clock,
      engine: engine.engine,
      env: engine.env,
      node: `${name}-control-plane`,
      kubeConfig: loadKubeConfig(paths.kubeconfig),
    });
  }

  private async waitReady(paths: KindPaths, timeoutMs: number): Promise<void> {
    const kc = loadKubeConfig(paths.kubeconfig);
    await waitUntil(() => apiServerReady(kc), { timeoutMs, clock: this.clock, what: 'kube-apiserver /readyz' });
  }

  private async kind(engine: KindEngine, args: string[], timeoutMs: number): Promise<void> {
    const env = { ...engine.env, ...(engine.engine === 'podman' ? { KIND_EXPERIMENTAL_PROVIDER: 'podman' } : {}) };
    const r = await this.runner.run(join(this.binDir, 'kind'), args, { env, timeoutMs });
    if (r.code !== 0) {
      throw new ClusterError(`kind ${args.slice(0, 2).join(' ')} exited with ${r.code}:\n${lastLines(r.stderr, 15)}`);
    }
  }

  /** An engine that answers now, for work on a running cluster (never starts ours). */
  private async engineOrThrow(): Promise<KindEngine> {
    const { found, probes } = await answeringEngine(this.runner, this.env);
    if (!found) throw new ClusterError(missingEngineMessage(probes));
    return found;
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
    const admissionDir = join(dir, 'admission');
    return {
      dir,
      config: join(dir, 'kind.yaml'),
      kubeconfig: join(dir, 'kubeconfig.yaml'),
      learnerKubeconfig: join(dir, 'learner.kubeconfig.yaml'),
      policyDir,
      policy: join(policyDir, 'audit-policy.yaml'),
      logDir,
      auditLog: join(logDir, 'kube-apiserver-audit.log'),
      admissionDir,
      staticPolicyDir: join(admissionDir, 'policies'),
    };
  }

  private info(name: string, paths: KindPaths): ClusterInfo {
    return {
      name,
      provider: 'kind',
      kubeconfigPath: paths.kubeconfig,
      auditLogPath: paths.auditLog,
      dir: paths.dir,
      ...(existsSync(paths.learnerKubeconfig) ? { learnerKubeconfigPath: paths.learnerKubeconfig } : {}),
    };
  }
}
