/**
 * The quizzes the server offers, read from `quizzes/` through the content validator (so the
 * server never serves a quiz that `irlab validate` would refuse), with their lessons' headings
 * for the "read more" links.
 */
import { formatProblems } from '../content/friendly-errors.ts';
import { validateLessons } from '../content/lessons.ts';
import { lessonOutline, validateQuizzes, type LessonOutline, type LoadedQuiz } from '../content/quizzes.ts';

export interface CatalogQuiz extends LoadedQuiz {
  lesson: LessonOutline | undefined;
}

export interface QuizCatalog {
  get(slug: string): CatalogQuiz | undefined;
  all(): CatalogQuiz[];
}

export async function loadCatalog(root: string): Promise<QuizCatalog> {
  const lessons = await validateLessons(root);
  const { quizzes, problems } = await validateQuizzes(root, lessons.lessons);
  if (problems.length) throw new Error(`Quiz content is invalid; run \`npx irlab validate\`. ${formatProblems(problems)}`);
  const entries: CatalogQuiz[] = [];
  for (const quiz of quizzes) {
    const lesson = lessons.lessons.find((l) => l.slug === quiz.data.lesson);
    entries.push({ ...quiz, lesson: lesson ? await lessonOutline(root, lesson) : undefined });
  }
  const bySlug = new Map(entries.map((e) => [e.slug, e]));
  return { get: (slug) => bySlug.get(slug), all: () => entries };
}
