// `irlab cluster ...` and `irlab engine build`. Results go to stdout (the
// kubeconfig path, JSON lines of audit events) so they can be piped; progress
// and errors go to stderr.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { engineDir } from './binaries.ts';
import { allProviders, selectProvider } from './select-provider.ts';
import { nodeRunner, type Runner } from './runtime.ts';
import { ClusterError, formatClusterError, type ClusterProvider } from './types.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  runner: Runner;
  /** Aborted on Ctrl-C; ends `cluster audit --follow`. */
  signal?: AbortSignal;
  /** Providers to act on; default: embedded and kind with the real machine. */
  providers?: () => ClusterProvider[];
}

const USAGE = `usage:
  irlab cluster create [--name N] [--provider auto|embedded|kind] [--audit-policy FILE]
  irlab cluster list
  irlab cluster delete N
  irlab cluster audit N [--follow]
  irlab cluster audit-policy N FILE   (validate FILE, restart the API server with it)
  irlab cluster health N
  irlab cluster pod-runtime N         (kubectl exec and logs for an embedded cluster's pods, until Ctrl-C)
  irlab engine build [--kind]         (build the cluster binaries into the cache; --kind: also
                                       Debian's Docker and kind's node image, offline)
`;

export async function runClusterCommand(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdout: io.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => process.stderr.write(t)),
    env: io.env ?? process.env,
    runner: io.runner ?? nodeRunner,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.providers ? { providers: io.providers } : {}),
  };
  try {
    return await dispatch(argv, full);
  } catch (err) {
    full.stderr(`error: ${formatClusterError(err)}\n`);
    return 1;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'engine' && command === 'build') {
    const unknown = rest.filter((a) => a !== '--kind');
    if (unknown.length) {
      io.stderr(`error: unknown option ${unknown[0]} for \`irlab engine build\`\n${USAGE}`);
      return 2;
    }
    const code = await engineBuild(io, 'build.sh');
    // kind's node image needs the engine's binaries (the control plane reuses them).
    return code === 0 && rest.includes('--kind') ? engineBuild(io, join('kind', 'build.sh')) : code;
  }
  if (group !== 'cluster' || !command) {
    io.stderr(USAGE);
    return group === undefined || group === 'help' ? 0 : 2;
  }
  const providers = () => (io.providers ? io.providers() : allProviders({ env: io.env, runner: io.runner }));

  switch (command) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, provider: { type: 'string' }, 'audit-policy': { type: 'string' } },
        allowPositionals: false,
      });
      const { provider, reason } = await selectProvider({
        requested: values.provider,
        env: io.env,
        runner: io.runner,
        ...(io.providers ? { make: byName(io.providers()) } : {}),
      });
      io.stderr(`provider: ${reason}\n`);
      const started = Date.now();
      const info = await provider.create({
        ...(values.name ? { name: values.name } : {}),
        ...(values['audit-policy'] ? { auditPolicyPath: values['audit-policy'] } : {}),
        onStep: (step) => io.stderr(` • ${step}\n`),
      });
      io.stderr(`cluster ${info.name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      if (info.provider === 'embedded') {
        // kwok simulates the pods; without irlab's pod runtime kubectl exec says "no exec found".
        io.stderr(
          `note: its pods are simulated and have no runtime yet: for kubectl exec and logs, run \`irlab cluster pod-runtime ${info.name}\` (stays running until Ctrl-C); labs (the site, irlab test) start it themselves\n`,
        );
      }
      io.stdout(`${info.kubeconfigPath}\n`);
      return 0;
    }
    case 'list': {
      const rows: string[][] = [['NAME', 'PROVIDER', 'KUBECONFIG']];
      for (const p of providers()) {
        for (const c of await p.list()) rows.push([c.name, c.provider, c.kubeconfigPath]);
      }
      io.stdout(table(rows));
      return 0;
    }
    case 'delete': {
      const name = onePositional(rest, 'cluster delete N');
      await (await owner(providers(), name)).delete(name);
      io.stderr(`deleted ${name}\n`);
      return 0;
    }
    case 'audit': {
      const { values, positionals } = parseArgs({ args: rest, options: { follow: { type: 'boolean' } }, allowPositionals: true });
      const name = onePositional(positionals, 'cluster audit N [--follow]');
      const provider = await owner(providers(), name);
      const stream = provider.auditLog(name, { follow: values.follow ?? false, ...(io.signal ? { signal: io.signal } : {}) });
      for await (const event of stream) io.stdout(`${JSON.stringify(event)}\n`);
      return 0;
    }
    case 'audit-policy': {
      const [name, file] = rest;
      if (!name || !file || rest.length !== 2) throw new ClusterError('expected: cluster audit-policy N FILE');
      await (await owner(providers(), name)).setAuditPolicy(name, file);
      io.stderr(`${name}: kube-apiserver restarted with ${file}\n`);
      return 0;
    }
    case 'health': {
      const name = onePositional(rest, 'cluster health N');
      const health = await (await owner(providers(), name)).health(name);
      io.stdout(`${JSON.stringify(health, null, 2)}\n`);
      return health.apiServerReady ? 0 : 1;
    }
    default:
      io.stderr(USAGE);
      return 2;
  }
}

async function owner(providers: ClusterProvider[], name: string): Promise<ClusterProvider> {
  for (const p of providers) {
    if ((await p.list()).some((c) => c.name === name)) return p;
  }
  throw new ClusterError(`no cluster named ${name}`, 'See `irlab cluster list`.');
}

function byName(providers: ClusterProvider[]): Partial<Record<ClusterProvider['name'], () => ClusterProvider>> {
  return Object.fromEntries(providers.map((p) => [p.name, () => p]));
}

function onePositional(args: string[], usage: string): string {
  if (args.length !== 1 || !args[0] || args[0].startsWith('-')) throw new ClusterError(`expected: ${usage}`);
  return args[0];
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Runs engine/build.sh (or engine/kind/build.sh) with the terminal attached: it prints its own progress. */
function engineBuild(io: CliIo, script: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(engineDir(io.env), script)], { env: io.env, stdio: 'inherit' });
    child.on('error', (err) => {
      io.stderr(`error: cannot run engine/${script}: ${err.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
