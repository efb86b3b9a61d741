/**
 * Validates all authored content of a project tree at once: lessons and quizzes today; labs and
 * scenarios join here as their schemas land, so `irlab validate` and the build see one report.
 */
import { validateLessons } from './lessons.ts';
import { validateScenarios } from '../scenarios/load.ts';
import { validateQuizzes } from './quizzes.ts';
import type { ContentProblem } from './friendly-errors.ts';

export interface ValidationReport {
  problems: ContentProblem[];
  /** How many files of each kind were read. */
  counts: Record<string, number>;
}

export async function validateContent(root: string): Promise<ValidationReport> {
  const lessons = await validateLessons(root);
  const lessonFiles = new Set([...lessons.lessons.map((l) => l.file), ...lessons.problems.map((p) => p.file)]);
  const scenarios = await validateScenarios(root);
  const scenarioFiles = new Set([...scenarios.scenarios.map((s) => s.file), ...scenarios.problems.map((p) => p.file)]);
  const quizzes = await validateQuizzes(root, lessons.lessons);
  return {
    problems: [...lessons.problems, ...scenarios.problems, ...quizzes.problems],
    counts: { lessons: lessonFiles.size, scenarios: scenarioFiles.size, quizzes: quizzes.files.size },
  };
}
