/** `irlab validate [PATH]`: the content at PATH (a project, a content folder or one file). */
import path from 'node:path';
import { formatProblems } from '../content/friendly-errors.ts';
import { validateContentAt } from '../content/validate-at.ts';

const WHERE = `irlab validate reads lessons (src/content/lessons/*.mdx), quizzes (quizzes/*.yaml), labs (labs/<slug>/lab.yaml),
scenarios (scenarios/<slug>/scenario.yaml) and drills (scenarios/<slug>/drill.yaml)`;

const ONE: Record<string, string> = { lessons: 'lesson', scenarios: 'scenario', quizzes: 'quiz', labs: 'lab', drills: 'drill' };

function plural(n: number, kind: string) {
  return `${n} ${n === 1 ? (ONE[kind] ?? kind) : kind}`;
}

export async function validateCommand(args: string[]): Promise<number> {
  if (args.length > 1) {
    console.error('irlab validate: give one path (a project, a content folder or one file), or none for the current folder');
    return 2;
  }
  const asked = args[0] ?? '.';
  let report;
  try {
    report = await validateContentAt(asked);
  } catch (error) {
    console.error(`irlab validate: ${(error as Error).message}`);
    return 1;
  }
  const fromHere = path.relative(process.cwd(), path.resolve(asked));
  const shown = fromHere.startsWith('..') ? path.resolve(asked) : fromHere || '.';
  const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
  if (total === 0) {
    console.error(`irlab validate: found no content to check at ${shown} (project: ${report.root})\n${WHERE}.`);
    return 1;
  }
  // A whole project lists every kind (a zero there is news); a part lists only what it holds.
  const kinds = Object.entries(report.counts).filter(([, n]) => n > 0 || report.target === '');
  const counted = kinds.map(([kind, n]) => (report.target === '' ? `${n} ${kind}` : plural(n, kind))).join(', ');
  const what = report.target === '' ? '' : ` at ${shown}`;
  if (report.problems.length > 0) {
    console.error(formatProblems(report.problems));
    console.error(`\nchecked ${counted}${what}: invalid`);
    return 1;
  }
  console.log(`checked ${counted}${what}: all valid`);
  return 0;
}
