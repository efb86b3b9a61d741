/**
 * `irlab validate PATH`: the content at PATH (a project, a content folder or one file), with
 * references resolved against the project around it. Apart from validate.ts (which the site build
 * runs, and which loads every validator) so that checking one file loads only its validator:
 * this module imports them when needed.
 */
import { readdir, stat as statFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContentProblem } from './friendly-errors.ts';
import type { ValidationReport } from './validate.ts';
import type { LoadedScenario } from '../scenarios/load.ts';

// Where each kind lives (the modules that read them export the same names; validate-at.test.ts
// checks). Here as plain strings so that checking one lab loads no scenario or quiz code.
export const LESSONS_DIR = 'src/content/lessons';
export const QUIZZES_DIR = 'quizzes';
export const LABS_DIR = 'labs';
export const SCENARIOS_DIR = 'scenarios';
export const SCENARIO_FILE = 'scenario.yaml';
export const DRILL_FILE = 'drill.yaml';

/** Each validator is loaded when needed: zod schemas cost time to build. */
const lessonsModule = () => import('./lessons.ts');
const scenariosModule = () => import('../scenarios/load.ts');
const labsModule = () => import('../lab/labs.ts');
const quizzesModule = () => import('./quizzes.ts');
const drillsModule = () => import('../drill/load.ts');

/** Folders under scenarios/ (as listScenarioDirs in scenarios/load.ts lists them). */
async function scenarioDirs(root: string): Promise<string[]> {
  const entries = await readdir(path.resolve(root, SCENARIOS_DIR), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('_')).map((e) => path.join(SCENARIOS_DIR, e.name)).sort();
}

/** Lesson slugs from file names (as lessons.ts names them). */
async function lessonSlugs(root: string): Promise<string[]> {
  const entries = await readdir(path.resolve(root, LESSONS_DIR), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && /\.mdx?$/.test(e.name) && !e.name.startsWith('_'))
    .map((e) => e.name.replace(/\.mdx?$/, ''))
    .sort();
}


const wholeProject = async (root: string) => (await import('./validate.ts')).validateContent(root);

/** What `validateContentAt` looked at, for messages. */
export interface TargetedReport extends ValidationReport {
  /** The project the cross-references were resolved against. */
  root: string;
  /** The path asked for, relative to `root` ('' for the root itself). */
  target: string;
}

const PROJECT_MARKERS = ['package.json', 'labs', 'scenarios', 'quizzes', path.join('src', 'content', 'lessons')];

/** The nearest folder at or above `start` that looks like an irlab project (or `start` itself). */
async function projectRoot(start: string): Promise<string> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    for (const marker of PROJECT_MARKERS) if (await statFile(path.join(dir, marker)).catch(() => undefined)) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

/** Whether the folder or file `a` holds `b` or is `b` ('' is the project itself). */
function holds(a: string, b: string) {
  return a === '' || a === b || b.startsWith(`${a}${path.sep}`);
}

/**
 * Validates the content at `target`: a project, a content folder (labs/, one scenario...) or one
 * file (a lab.yaml, a scenario.yaml, a quiz, a lesson, a drill.yaml), and reports only the files
 * there. References resolve against the project around it, as in the build: a lab's lesson and
 * scenario must exist, a quiz's sections are read from its lesson, a drill is checked against its
 * scenario and lab. Files nobody asked about are read only as far as those references need (a lab
 * needs its scenario to exist, not the scenario's whole YAML), so one file is checked quickly.
 */
export async function validateContentAt(target: string): Promise<TargetedReport> {
  const absolute = path.resolve(target);
  const info = await statFile(absolute).catch(() => undefined);
  if (!info) throw new Error(`${absolute} does not exist`);
  const root = await projectRoot(info.isDirectory() ? absolute : path.dirname(absolute));
  const relative = path.relative(root, absolute);
  const selected = (file: string) => holds(relative, file);
  // Which kinds of file the target may hold: a kind's folder is at, above or below the target.
  const may = (dir: string) => holds(relative, dir) || holds(dir, relative);
  const report = may(LESSONS_DIR) && may(QUIZZES_DIR) && may(LABS_DIR) && may(SCENARIOS_DIR) ? await wholeProject(root) : await validatePart(root, may, selected);
  const files = Object.fromEntries(Object.entries(report.files).map(([kind, set]) => [kind, new Set([...set].filter(selected))]));
  return {
    root,
    target: relative,
    problems: report.problems.filter((p) => selected(p.file)),
    counts: Object.fromEntries(Object.entries(files).map(([kind, set]) => [kind, set.size])),
    files,
  };
}

/** The kinds `may` allows, with what their references need; the caller keeps `selected` files. */
async function validatePart(root: string, may: (dir: string) => boolean, selected: (file: string) => boolean): Promise<ValidationReport> {
  const problems: ContentProblem[] = [];
  const files: Record<string, Set<string>> = { lessons: new Set(), scenarios: new Set(), quizzes: new Set(), labs: new Set(), drills: new Set() };
  const note = (kind: string, list: Iterable<string>) => {
    for (const file of list) files[kind]!.add(file);
  };
  // Quizzes need their lessons' headings; labs only need their lesson to exist.
  const lessons = may(LESSONS_DIR) || may(QUIZZES_DIR) ? await (await lessonsModule()).validateLessons(root) : { lessons: [], problems: [] };
  if (may(LESSONS_DIR)) {
    problems.push(...lessons.problems);
    note('lessons', [...lessons.lessons.map((l) => l.file), ...lessons.problems.map((p) => p.file)]);
  }
  if (may(QUIZZES_DIR)) {
    const { listQuizFiles, quizReferenceProblems, readQuizzes } = await quizzesModule();
    const quizzes = await readQuizzes(root, (await listQuizFiles(root)).filter(selected));
    problems.push(...quizzes.problems, ...(await quizReferenceProblems(root, quizzes.quizzes, lessons.lessons)));
    note('quizzes', [...quizzes.quizzes.map((q) => q.file), ...quizzes.problems.map((p) => p.file)]);
  }
  const dirs = await scenarioDirs(root);
  const scenarios: LoadedScenario[] = [];
  // A drill is checked against its scenario, so a drill asked for loads its scenario too.
  for (const dir of dirs.filter((d) => may(d) && (selected(path.join(d, SCENARIO_FILE)) || selected(path.join(d, DRILL_FILE))))) {
    const result = await (await scenariosModule()).loadScenario(root, dir);
    if (result.loaded) scenarios.push(result.loaded);
    problems.push(...result.problems);
    note('scenarios', [...(result.loaded ? [result.loaded.file] : []), ...result.problems.map((p) => p.file)]);
  }
  for (const dir of dirs.filter((d) => selected(path.join(d, DRILL_FILE)) && !scenarios.some((s) => path.join(SCENARIOS_DIR, s.slug) === d))) {
    const drill = path.join(dir, DRILL_FILE);
    if (!(await statFile(path.resolve(root, drill)).catch(() => undefined))) continue;
    // Its own problems are for `irlab validate <scenario>`; the drill cannot be checked without it.
    problems.push({ file: drill, path: '', message: `the drill's scenario (${path.join(dir, SCENARIO_FILE)}) has problems, so the drill was not checked`, hint: `run irlab validate ${dir} and fix those first` });
    note('drills', [drill]);
  }
  const drillsWanted = scenarios.some((s) => selected(path.join(SCENARIOS_DIR, s.slug, DRILL_FILE)));
  if (may(LABS_DIR) || drillsWanted) {
    const labs = await (await labsModule()).validateLabs(root, { lessons: await lessonSlugs(root), scenarios: dirs.map((d) => path.basename(d)) });
    if (may(LABS_DIR)) {
      problems.push(...labs.problems);
      note('labs', [...labs.labs.map((l) => l.file), ...labs.problems.map((p) => p.file)]);
    }
    if (drillsWanted) {
      const drills = await (await drillsModule()).validateDrills(root, { scenarios, labs: labs.labs });
      problems.push(...drills.problems);
      note('drills', [...drills.drills.map((d) => d.file), ...drills.problems.map((p) => p.file)]);
    }
  }
  return { problems, files, counts: Object.fromEntries(Object.entries(files).map(([kind, set]) => [kind, set.size])) };
}
