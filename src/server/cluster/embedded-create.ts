// The steps of creating one embedded cluster (see embedded-provider.ts for
// the provider around them). Every wait also watches the component processes:
// one that died (bad flag, port taken) will not come back, so the step fails
// at once with that component's own last log lines instead of timing out.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { KubeConfig } from '@kubernetes/client-node';

import { startStoppedComponents } from './apiserver-restart.ts';
import { startAndWatchApiServer } from './apiserver-watch.ts';
import { DEFAULT_AUDIT_POLICY, loadAuditPolicy } from './audit-policy.ts';
import { assertBinaries, embeddedBinaries, podSandboxBinaryName } from './binaries.ts';
import { apiServerReady, controllersReady, loadKubeConfig } from './kube.ts';
import { addKwokNodes, nodesReady } from './kwok-nodes.ts';
import { createClusterArgs, lastLines, readPids, type ClusterPaths, type Kwokctl } from './kwokctl.ts';
import { kwokctlConfigYaml } from './kwokctl-config.ts';
import { pickClusterPorts } from './ports.ts';
import { pathExists, processState, StopWaiting, waitUntil, type Clock } from './runtime.ts';
import { runSteps } from './steps.ts';
import { ClusterError, type CreateClusterOptions } from './types.ts';

export interface CreateContext {
  name: string;
  paths: ClusterPaths;
  binDir: string;
  kwokctl: Kwokctl;
  clock: Clock;
  options: CreateClusterOptions;
  /** clock.now() value by which create must be done. */
  deadline: number;
  /** Removes everything the cluster started or wrote. */
  destroy: () => Promise<void>;
}

export async function createEmbeddedCluster(ctx: CreateContext): Promise<void> {
  const { name, paths, clock, options } = ctx;
  const remaining = () => Math.max(1_000, ctx.deadline - clock.now());
  const wait = (check: () => Promise<boolean>, what: string) =>
    waitUntil(async () => (await assertComponentsAlive(paths)) && check(), {
      timeoutMs: remaining(),
      intervalMs: 200,
      clock,
      what,
    });
  let inputDir: string | undefined;

  try {
    await runSteps(
      [
        { name: 'check binaries', run: async () => assertBinaries(ctx.binDir, embeddedBinaries()) },
        {
          name: 'check name',
          run: async () => {
            if (await pathExists(paths.dir)) {
              throw new ClusterError(
                `cluster ${name} already exists (${paths.dir})`,
                `Pick another --name, or remove it with \`irlab cluster delete ${name}\`.`,
              );
            }
          },
        },
        {
          name: 'prepare config',
          run: async () => {
            const policy = options.auditPolicyPath ? await loadAuditPolicy(options.auditPolicyPath) : DEFAULT_AUDIT_POLICY;
            // kwokctl copies the policy into the cluster dir; these copies are only its input.
            inputDir = paths.inputDir;
            await mkdir(inputDir, { recursive: true, mode: 0o700 });
            await writeFile(join(inputDir, 'audit.yaml'), policy, 'utf8');
            await writeFile(join(inputDir, 'kwokctl.yaml'), kwokctlConfigYaml(await pickClusterPorts()), 'utf8');
          },
        },
        {
          name: 'start control plane',
          run: async () => {
            const dir = inputDir ?? '';
            const files = { auditPolicy: join(dir, 'audit.yaml'), kwokctlConfig: join(dir, 'kwokctl.yaml') };
            const budget = remaining();
            const outcome = await startAndWatchApiServer({
              paths,
              clock,
              ready: readyOnceConfigured(paths.kubeconfig),
              timeoutMs: budget,
              label: 'kwokctl create cluster',
              watchAll: true,
              start: (signal) =>
                ctx.kwokctl.run(createClusterArgs(name, ctx.binDir, files, budget, podSandboxBinaryName()), { timeoutMs: budget + 5_000, signal }),
            });
            if (!outcome.ok) throw new ClusterError(outcome.message, 'The cluster was removed again; fix the cause and retry.');
            if (outcome.exit.code !== 0) {
              throw new ClusterError(`kwokctl create cluster exited with ${outcome.exit.code}:\n${lastLines(outcome.exit.stderr, 15)}`);
            }
            if (outcome.gaveUp?.length) {
              // Controllers that stopped waiting for a slow API server start again now that it is
              // ready; one more start, and a second exit fails the wait steps below with its log.
              const again = await startStoppedComponents({
                name,
                paths,
                clock,
                kwokctl: ctx.kwokctl,
                ready: readyOnceConfigured(paths.kubeconfig),
                signalProcess: (pid, signal) => process.kill(pid, signal),
                readyTimeoutMs: remaining(),
              });
              if (!again.ok) throw new ClusterError(`${outcome.gaveUp.join(' and ')} gave up waiting for the API server and did not start again: ${again.message}`);
            }
          },
          cleanup: ctx.destroy,
        },
        {
          name: 'wait for API server',
          run: async () => {
            const kc = loadKubeConfig(paths.kubeconfig);
            await wait(() => apiServerReady(kc), `${name}'s kube-apiserver /readyz`);
          },
        },
        {
          name: 'wait for controllers',
          run: async () => {
            const kc = loadKubeConfig(paths.kubeconfig);
            await wait(() => controllersReady(kc), `${name}'s kube-controller-manager to create the default ServiceAccount`);
          },
        },
        {
          name: 'add kwok nodes',
          run: async () => {
            const count = options.nodes ?? 1;
            if (count === 0) return;
            const kc = loadKubeConfig(paths.kubeconfig);
            const names = await addKwokNodes(kc, count);
            await wait(() => nodesReady(kc, names), `kwok-controller to mark ${names.join(', ')} Ready`);
          },
        },
      ],
      { onStep: options.onStep },
    );
  } finally {
    if (inputDir) await rm(inputDir, { recursive: true, force: true });
  }
}

/** A crashed component will not recover by itself: say so with its own last words. */
export async function assertComponentsAlive(paths: ClusterPaths): Promise<true> {
  for (const { component, pid } of await readPids(paths.pidsDir)) {
    if (processState(pid) === 'running') continue;
    const log = await readFile(join(paths.logsDir, `${component}.log`), 'utf8').catch(() => '');
    throw new StopWaiting(`${component} (pid ${pid}) exited:\n${lastLines(log, 8)}`);
  }
  return true;
}

/** Another process took one of our ports between choosing and binding it. */
export function isPortConflict(err: unknown): boolean {
  return err instanceof Error && /address already in use|bind: /i.test(err.message);
}

/** The admin kubeconfig appears only once kwokctl has set the cluster up. */
function readyOnceConfigured(kubeconfigPath: string): () => Promise<boolean> {
  let kc: KubeConfig | undefined;
  return async () => {
    if (!kc) {
      if (!(await pathExists(kubeconfigPath))) return false;
      kc = loadKubeConfig(kubeconfigPath);
    }
    return apiServerReady(kc);
  };
}
