// Which provider a new cluster gets. An explicit choice (--provider or
// IRLAB_PROVIDER) always wins, even when it cannot work here: the provider's
// create then fails fast and says what is missing, instead of silently
// running something else. Without a choice, kind is used when a container
// engine answers, kind is built and its node image is already in the engine
// (auto-selection never makes the server pull an image); otherwise the
// embedded provider, which needs nothing but the engine cache.
//
// A cluster for an untrusted learner's /terminal session is never kind: its pods are real
// containers on a node that is itself a privileged container of this machine, so a learner with
// the cluster's admin credential creates a privileged pod and sees the host's disks (proved by
// tests/kind-clusters/kind-labs.test.ts). The embedded engine runs pod commands in a sandbox.
// Labs may run on kind (IRLAB_LAB_ENGINE=kind): there the learner's shell holds a bounded
// credential of its own (ClusterProvider.learnerAccess), never the admin's.

import { EmbeddedProvider } from './embedded-provider.ts';
import { answeringEngine } from './kind-engine.ts';
import { KindProvider } from './kind-provider.ts';
import { nodeImagePresent } from './kind-node-image.ts';
import { nodeRunner, type Runner } from './runtime.ts';
import { ClusterError, PROVIDER_NAMES, type ClusterProvider, type ProviderName } from './types.ts';

export type ProviderChoice = ProviderName | 'auto';

export interface SelectOptions {
  /** --provider; 'auto' or undefined means decide from the machine. */
  requested?: string;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  /** Builds the providers; tests pass their own (e.g. pointing at temp dirs). */
  make?: Partial<Record<ProviderName, () => ClusterProvider>>;
  /** Whether the kind binary is built; default asks the kind provider. */
  kindBuilt?: () => Promise<boolean>;
  /** The node image kind would boot; default asks the kind provider (configured or built-in). */
  kindNodeImage?: () => Promise<string | undefined>;
  /** For an untrusted learner: never kind, not even when asked for (see the top of this file). */
  untrusted?: boolean;
}

export interface Selection {
  provider: ClusterProvider;
  /** One line for the CLI: why this provider. */
  reason: string;
}

export function parseProviderChoice(value: string | undefined): ProviderChoice {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if ((PROVIDER_NAMES as readonly string[]).includes(value)) return value as ProviderName;
  throw new ClusterError(`unknown provider ${JSON.stringify(value)}`, `Use one of: auto, ${PROVIDER_NAMES.join(', ')}.`);
}

export async function selectProvider(options: SelectOptions = {}): Promise<Selection> {
  const env = options.env ?? process.env;
  const runner = options.runner ?? nodeRunner;
  const make = (name: ProviderName): ClusterProvider => {
    const custom = options.make?.[name];
    if (custom) return custom();
    return name === 'kind' ? new KindProvider({ env, runner }) : new EmbeddedProvider({ env, runner });
  };

  const fromFlag = options.requested !== undefined && options.requested !== '' && options.requested !== 'auto';
  const choice = parseProviderChoice(fromFlag ? options.requested : env['IRLAB_PROVIDER']);
  if (choice === 'kind' && options.untrusted) {
    throw new ClusterError(
      `${fromFlag ? '--provider' : 'IRLAB_PROVIDER'}=kind: a learner's cluster is never kind: with its admin credential a privileged pod reaches this machine's disks (a kind node is a privileged container)`,
      'Unset IRLAB_PROVIDER (or set it to embedded) for the server. Labs can run on kind with IRLAB_LAB_ENGINE=kind, where each learner gets a bounded credential of their own instead of the admin\'s; authors use `irlab test --provider kind`.',
    );
  }
  if (choice !== 'auto') {
    return { provider: make(choice), reason: `${choice} (chosen by ${fromFlag ? '--provider' : 'IRLAB_PROVIDER'})` };
  }
  if (options.untrusted) return { provider: make('embedded'), reason: 'embedded (a learner\'s cluster: pod commands sandboxed; never kind, whose privileged pods reach the host)' };

  const answering = (await answeringEngine(runner, env, 3_000)).found;
  const engine = answering?.engine;
  if (!answering || !engine) {
    return { provider: make('embedded'), reason: 'embedded (no Docker/Podman engine answered)' };
  }
  const kindProvider = make('kind');
  const kindBuilt = options.kindBuilt ?? (async () => (await kindProvider.available()).ok);
  if (!(await kindBuilt())) {
    return { provider: make('embedded'), reason: `embedded (${engine} answers, but kind is not built: run \`irlab engine build\`)` };
  }
  const nodeImage = await (options.kindNodeImage ?? (async () => (kindProvider instanceof KindProvider ? kindProvider.nodeImageRef() : undefined)))();
  if (!nodeImage) {
    return { provider: make('embedded'), reason: `embedded (${engine} answers, but kind's node image is unknown: set IRLAB_KIND_NODE_IMAGE or IRLAB_PROVIDER=kind)` };
  }
  if (!(await nodeImagePresent(runner, engine, nodeImage, 10_000, answering.env))) {
    return {
      provider: make('embedded'),
      reason: `embedded (${engine} answers, but kind's node image ${nodeImage} is not in it: \`${engine} pull ${nodeImage}\` first, or set IRLAB_PROVIDER=kind)`,
    };
  }
  return { provider: kindProvider, reason: `kind (${engine} engine answered, node image ${nodeImage} present)` };
}

/** Every provider, for commands that act on an existing cluster by name. */
export function allProviders(options: { env?: NodeJS.ProcessEnv; runner?: Runner } = {}): ClusterProvider[] {
  return [new EmbeddedProvider(options), new KindProvider(options)];
}
