/**
 * `irlab`: the command line over the same modules the server uses. Each command is a function
 * from arguments to an exit code, so tests call it directly as well as through the binary.
 *
 * Every command is imported when it runs, not before: the cluster code alone pulls in
 * @kubernetes/client-node (about 900 modules, most of a second), which `irlab help` or
 * `irlab policy eval` must not pay for. Nothing here may import a command module statically
 * (main.test.ts checks what `help` loads).
 */
import { USAGE } from './usage.ts';

type Command = (args: string[]) => Promise<number>;

/** Runs until Ctrl-C (or SIGTERM), then stops the runtime cleanly. */
async function podRuntime(args: string[]): Promise<number> {
  const { podRuntimeCommand } = await import('./pod-runtime.ts');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await podRuntimeCommand(args, { err: (text) => console.error(text), signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const commands: Record<string, Command> = {
  validate: async (args) => (await import('./validate.ts')).validateCommand(args),
  cluster: async (args) => {
    if (args[0] === 'pod-runtime') return podRuntime(args.slice(1));
    return (await import('../cluster/cli.ts')).runClusterCommand(['cluster', ...args]);
  },
  engine: async (args) => (await import('../cluster/cli.ts')).runClusterCommand(['engine', ...args]),
  scenario: async (args) => (await import('../scenarios/cli.ts')).runScenarioCommand(args),
  test: async (args) => (await import('../lab/cli.ts')).testCommand(args),
  new: async (args) => (await import('./new.ts')).newCommand(args),
  schema: async (args) => {
    const path = await import('node:path');
    const { writeJsonSchemas } = await import('../content/json-schemas.ts');
    const files = await writeJsonSchemas(path.resolve(args[0] ?? 'schemas'));
    for (const file of files) console.log(`wrote ${path.relative(process.cwd(), file)}`);
    return 0;
  },
  dev: async (args) => (await import('./dev.ts')).devCommand(args),
  query: async (args) => (await import('../query/cli.ts')).queryCommand(args),
  detect: async (args) => (await import('../query/cli.ts')).detectCommand(args),
  policy: async (args) => (await import('../audit-policy/cli.ts')).policyCommand(args),
  xapi: async (args) => (await import('../xapi/cli.ts')).xapiCommand(args),
  help: async () => {
    console.log(USAGE);
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const command = commands[name === '--help' || name === '-h' ? 'help' : name];
  if (!command) {
    console.error(`irlab: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    console.error(failureReport(name, error, process.env.IRLAB_DEBUG === '1'));
    return 1;
  }
}

/**
 * A command that fails says what failed and what to do (errors such as ClusterError carry a
 * `hint`), not a Node stack trace of our files; IRLAB_DEBUG=1 adds the stack for a bug report.
 */
export function failureReport(command: string, error: unknown, withStack: boolean): string {
  const failure = error instanceof Error ? error : new Error(String(error));
  const hint = (failure as { hint?: unknown }).hint;
  const lines = [`irlab ${command}: ${failure.message}`];
  if (typeof hint === 'string' && hint) lines.push(hint);
  lines.push(withStack ? (failure.stack ?? '') : '(IRLAB_DEBUG=1 shows where it failed)');
  return lines.join('\n');
}
