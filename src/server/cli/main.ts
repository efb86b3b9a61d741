/**
 * `irlab`: the command line over the same modules the server uses. Each command is a function
 * from arguments to an exit code, so tests call it directly as well as through the binary.
 */
import path from 'node:path';
import { validateContent } from '../content/validate.ts';
import { formatProblems } from '../content/friendly-errors.ts';
import { runClusterCommand } from '../cluster/cli.ts';
import { runScenarioCommand } from '../scenarios/cli.ts';
import { testCommand } from '../lab/cli.ts';
import { writeJsonSchemas } from '../content/json-schemas.ts';
import { scaffold } from '../content/scaffold.ts';
import { extractHeadings } from '../content/headings.ts';
import { validateLessons } from '../content/lessons.ts';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { detectCommand, QUERY_USAGE, queryCommand } from '../query/cli.ts';
import { POLICY_USAGE, policyCommand } from '../audit-policy/cli.ts';

type Command = (args: string[]) => Promise<number>;

const USAGE = `irlab: Kubernetes incident-response labs

Usage:
  irlab validate [DIR]                       check every lesson, scenario and quiz under DIR (default: .); exit 1 on any problem
  irlab engine build                         build the cluster binaries (kube-apiserver, etcd, kwok...) into the cache
  irlab cluster create|list|delete|audit|audit-policy|health ...
                                             short-lived real clusters (irlab cluster help)
  irlab scenario list|validate|seed ...      attack scenarios (irlab scenario help)
  irlab test <lab> [--step N] | --all        prove a lab on a fresh cluster: checks fail untouched, pass after the reference solution
${QUERY_USAGE}
  irlab new scenario|lab|quiz <slug> [--scenario S] [--lesson L]
                                             scaffold a working example to edit
  irlab schema [DIR]                         write JSON Schemas of lesson, scenario, lab, quiz and drill files (default: schemas/)
${POLICY_USAGE}
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
  test: (args) => testCommand(args),
  new: async (args) => {
    const { values, positionals } = parseArgs({ args, options: { scenario: { type: 'string' }, lesson: { type: 'string' } }, allowPositionals: true });
    const [kind, slug] = positionals;
    if ((kind !== 'lab' && kind !== 'scenario' && kind !== 'quiz') || !slug) {
      console.error('usage: irlab new scenario <slug> | irlab new lab <slug> --scenario S [--lesson L] | irlab new quiz <slug> [--lesson L]');
      return 2;
    }
    const root = process.cwd();
    const { lessons } = await validateLessons(root);
    const lesson = lessons.find((l) => l.slug === (values.lesson ?? lessons[0]?.slug));
    const section = lesson ? extractHeadings(await readFile(path.join(root, lesson.file), 'utf8'))[0]?.slug : undefined;
    try {
      const files = await scaffold({
        root,
        kind,
        slug,
        ...(values.scenario ? { scenario: values.scenario } : {}),
        ...(lesson ? { lesson: lesson.slug } : {}),
        ...(section ? { section } : {}),
      });
      for (const file of files) console.log(`created ${file}`);
      console.log(kind === 'lab' ? `next: npx irlab validate && npx irlab test ${slug}` : 'next: npx irlab validate');
      return 0;
    } catch (error) {
      console.error(`irlab new: ${(error as Error).message}`);
      return 1;
    }
  },
  schema: async (args) => {
    const files = await writeJsonSchemas(path.resolve(args[0] ?? 'schemas'));
    for (const file of files) console.log(`wrote ${path.relative(process.cwd(), file)}`);
    return 0;
  },
  query: (args) => queryCommand(args),
  detect: (args) => detectCommand(args),
  policy: (args) => policyCommand(args),
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
