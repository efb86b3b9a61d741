/**
 * `irlab`: the command line over the same modules the server uses. Each command is a function
 * from arguments to an exit code, so tests call it directly as well as through the binary.
 */
import path from 'node:path';
import { validateContent } from '../content/validate.ts';
import { formatProblems } from '../content/friendly-errors.ts';
import { runClusterCommand } from '../cluster/cli.ts';
import { runScenarioCommand } from '../scenarios/cli.ts';
import { detectCommand, QUERY_USAGE, queryCommand } from '../query/cli.ts';

type Command = (args: string[]) => Promise<number>;

const USAGE = `irlab: Kubernetes incident-response labs

Usage:
  irlab validate [DIR]                       check every lesson, scenario and quiz under DIR (default: .); exit 1 on any problem
  irlab engine build                         build the cluster binaries (kube-apiserver, etcd, kwok...) into the cache
  irlab cluster create|list|delete|audit|audit-policy|health ...
                                             short-lived real clusters (irlab cluster help)
  irlab scenario list|validate|seed ...      attack scenarios (irlab scenario help)
${QUERY_USAGE}
  irlab help                                 this text
`;

const validate: Command = async (args) => {
  const root = path.resolve(args[0] ?? '.');
  const report = await validateContent(root);
  const counted = Object.entries(report.counts).map(([kind, n]) => `${n} ${kind}`).join(', ');
  if (report.problems.length > 0) {
    console.error(formatProblems(report.problems));
    console.error(`\nchecked ${counted}: invalid`);
    return 1;
  }
  console.log(`checked ${counted}: all valid`);
  return 0;
};

const commands: Record<string, Command> = {
  validate,
  cluster: (args) => runClusterCommand(['cluster', ...args]),
  engine: (args) => runClusterCommand(['engine', ...args]),
  scenario: (args) => runScenarioCommand(args),
  query: (args) => queryCommand(args),
  detect: (args) => detectCommand(args),
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
  return command(rest);
}
