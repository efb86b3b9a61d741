/**
 * Validates all authored content of a project tree at once: lessons, quizzes, scenarios, labs and
 * drills, so `irlab validate` and the build see one report.
 */
import { validateLessons } from './lessons.ts';
import { validateScenarios } from '../scenarios/load.ts';
import { validateLabs } from '../lab/labs.ts';
import { validateQuizzes } from './quizzes.ts';
import { validateDrills } from '../drill/load.ts';
import type { ContentProblem } from './friendly-errors.ts';

export interface ValidationReport {
  problems: ContentProblem[];
  /** How many files of each kind were read. */
  counts: Record<string, number>;
  /** The files of each kind (relative to the project), valid or not. */
  files: Record<string, ReadonlySet<string>>;
}

export async function validateContent(root: string): Promise<ValidationReport> {
  const lessons = await validateLessons(root);
  const lessonFiles = new Set([...lessons.lessons.map((l) => l.file), ...lessons.problems.map((p) => p.file)]);
  const scenarios = await validateScenarios(root);
  const scenarioFiles = new Set([...scenarios.scenarios.map((s) => s.file), ...scenarios.problems.map((p) => p.file)]);
  const quizzes = await validateQuizzes(root, lessons.lessons);
  const labs = await validateLabs(root, {
    lessons: lessons.lessons.map((l) => l.slug),
    scenarios: scenarios.scenarios.map((s) => s.slug),
  });
  // A lesson that names a lab must name one that exists.
  const labSlugs = new Set(labs.labs.map((l) => l.slug));
  for (const lesson of lessons.lessons) {
    if (lesson.data.lab && !labSlugs.has(lesson.data.lab) && !labs.problems.some((p) => p.file.includes(`/${lesson.data.lab}/`))) {
      labs.problems.push({ file: lesson.file, path: 'lab', message: `no lab "${lesson.data.lab}" under labs/`, hint: 'create labs/<slug>/lab.yaml or fix the name' });
    }
  }
  const labFiles = new Set([...labs.labs.map((l) => l.file), ...labs.problems.map((p) => p.file)]);
  const drills = await validateDrills(root, { scenarios: scenarios.scenarios, labs: labs.labs });
  const drillFiles = new Set([...drills.drills.map((d) => d.file), ...drills.problems.map((p) => p.file)]);
  const files = { lessons: lessonFiles, scenarios: scenarioFiles, quizzes: quizzes.files, labs: labFiles, drills: drillFiles };
  return {
    problems: [...lessons.problems, ...scenarios.problems, ...quizzes.problems, ...labs.problems, ...drills.problems],
    counts: Object.fromEntries(Object.entries(files).map(([kind, set]) => [kind, set.size])),
    files,
  };
}
