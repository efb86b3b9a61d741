/**
 * Reads `labs/<slug>/lab.yaml` and validates it with every cross-reference: the lesson and the
 * scenario exist, every check is registered, questions are ones the investigation check grades,
 * hint costs leave something to earn. All problems at once, through the friendly-error helper.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { labSchema, type Lab } from '../../schemas/lab.ts';
import { locate, nearest, parseLocatedYaml, problemsFromZod, yamlSyntaxProblems, formatPath, type ContentProblem } from '../content/friendly-errors.ts';
import { CHECK_NAMES, SCOPE_QUESTION_IDS } from './check-catalogue.ts';

export const LABS_DIR = 'labs';

export interface LoadedLab {
  slug: string;
  file: string;
  lab: Lab;
}

export interface LabReferences {
  lessons: string[];
  scenarios: string[];
}

export async function validateLabs(root: string, references: LabReferences) {
  const problems: ContentProblem[] = [];
  const labs: LoadedLab[] = [];
  const dirs = await readdir(path.resolve(root, LABS_DIR), { withFileTypes: true }).catch(() => []);
  for (const dir of dirs.filter((d) => d.isDirectory() && !d.name.startsWith('_')).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(LABS_DIR, dir.name, 'lab.yaml');
    const text = await readFile(path.resolve(root, file), 'utf8').catch(() => undefined);
    if (text === undefined) {
      problems.push({ file, path: '', message: 'missing lab.yaml', hint: 'every lab directory holds a lab.yaml' });
      continue;
    }
    const located = parseLocatedYaml(text);
    const syntax = yamlSyntaxProblems(file, located);
    if (syntax.length) {
      problems.push(...syntax);
      continue;
    }
    const result = labSchema.safeParse(located.doc.toJS() ?? {}, { reportInput: true });
    if (!result.success) {
      problems.push(...problemsFromZod(file, labSchema, result.error.issues, located));
      continue;
    }
    const lab = result.data;
    const problem = (at: PropertyKey[], message: string, hint?: string) =>
      problems.push({ file, ...locate(located, at), path: formatPath(at), message, ...(hint ? { hint } : {}) });
    const before = problems.length;
    const reference = (at: PropertyKey[], value: string, known: string[], what: string) => {
      if (known.includes(value)) return;
      const guess = nearest(value, known);
      problem(at, `no ${what} "${value}"`, guess.length ? `did you mean "${guess[0]}"?` : `known: ${known.join(', ') || 'none'}`);
    };
    reference(['lesson'], lab.lesson, references.lessons, 'lesson');
    reference(['scenario'], lab.scenario, references.scenarios, 'scenario');
    const ids = new Set<string>();
    lab.steps.forEach((step, index) => {
      if (ids.has(step.id)) problem(['steps', index, 'id'], `step id "${step.id}" is used twice`, 'give every step its own id');
      ids.add(step.id);
      step.checks.forEach((name, j) => reference(['steps', index, 'checks', j], name, [...CHECK_NAMES], 'check'));
      for (const question of step.questions) {
        const grader = SCOPE_QUESTION_IDS.includes(question.id) ? 'scope' : 'investigation';
        if (!step.checks.includes(grader)) {
          problem(['steps', index, 'questions'], `question "${question.id}" is graded by the ${grader} check, which this step does not run`, `add ${grader} to checks`);
          break;
        }
      }
      const hintTotal = step.hints.reduce((sum, hint) => sum + hint.cost, 0);
      if (hintTotal > 0.6) problem(['steps', index, 'hints'], `hints cost ${Math.round(hintTotal * 100)}% of the step together`, 'keep all hints of a step under 60% so solving it still earns most of the points');
      for (const question of step.questions) {
        if (!(question.id in step.solutionAnswers)) problem(['steps', index, 'solutionAnswers'], `the reference solution does not answer "${question.id}"`, `add ${question.id}: to solutionAnswers`);
      }
    });
    if (problems.length === before) labs.push({ slug: dir.name, file, lab });
  }
  return { labs, problems };
}

/**
 * Every lab of the project under `root`, checked against the project's own lessons and
 * scenarios; those reports come back too, so a caller that needs them reads the files once.
 */
export async function validateProjectLabs(root: string) {
  // Loaded here: `irlab validate <one lab>` needs this module, not the scenario and lesson schemas.
  const [{ validateLessons }, { validateScenarios }] = await Promise.all([import('../content/lessons.ts'), import('../scenarios/load.ts')]);
  const [lessons, scenarios] = await Promise.all([validateLessons(root), validateScenarios(root)]);
  const labs = await validateLabs(root, { lessons: lessons.lessons.map((l) => l.slug), scenarios: scenarios.scenarios.map((s) => s.slug) });
  return { ...labs, lessonReport: lessons, scenarioReport: scenarios };
}
