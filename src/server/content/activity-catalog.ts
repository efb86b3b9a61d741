/**
 * Every lab and quiz with the lesson it belongs to and its siblings, for the catalog pages
 * (/labs, /quizzes), the quiz page's top links and the instructor index. Read through the
 * validators, like lesson-activities.ts, so a page lists only what `irlab validate` accepts;
 * nothing here writes.
 */
import type { LabEngine, LabEngineView } from '../../lib/lab-engine.ts';
import { validateProjectLabs } from '../lab/labs.ts';
import { validateQuizzes } from './quizzes.ts';

export interface ActivityLink {
  slug: string;
  title: string;
  href: string;
}

export interface LabEntry extends ActivityLink {
  summary: string;
  steps: number;
  /** The engine the lab runs on here and what it means; `unavailable` when it cannot start here. */
  engine: LabEngineView;
  /** The lesson the lab practises; undefined when that lesson is a draft (no page to link). */
  lesson: ActivityLink | undefined;
  /** Quizzes on the same lesson, the lesson's own first. */
  quizzes: ActivityLink[];
}

export interface QuizEntry extends ActivityLink {
  description: string;
  /** Questions in one attempt: those outside pools plus each pool's draw. */
  questionsPerAttempt: number;
  passPercent: number;
  lesson: ActivityLink | undefined;
  /** Labs on the same lesson, the lesson's own first. */
  labs: ActivityLink[];
}

export interface ActivityCatalog {
  labs: LabEntry[];
  quizzes: QuizEntry[];
  lab(slug: string): LabEntry | undefined;
  quiz(slug: string): QuizEntry | undefined;
}

export function questionsPerAttempt(quiz: { questions: ReadonlyArray<{ pool?: string }>; pools: ReadonlyArray<{ draw: number }> }): number {
  const unpooled = quiz.questions.filter((q) => !q.pool).length;
  return unpooled + quiz.pools.reduce((sum, pool) => sum + pool.draw, 0);
}

/** The lesson's own lab or quiz (its frontmatter names it) first, then the others by title. */
const ownFirst = (own: string | undefined) => (a: ActivityLink, b: ActivityLink) =>
  Number(b.slug === own) - Number(a.slug === own) || a.title.localeCompare(b.title);

/** `engine`: the engine this server runs labs on (the services' `labEngine`). */
export async function activityCatalog(root: string, engine: LabEngine): Promise<ActivityCatalog> {
  const { labs, lessonReport } = await validateProjectLabs(root);
  const { quizzes } = await validateQuizzes(root, lessonReport.lessons);
  const lessons = new Map(lessonReport.lessons.filter((l) => !l.data.draft).map((l) => [l.slug, l]));
  const lessonLink = (slug: string): ActivityLink | undefined => {
    const lesson = lessons.get(slug);
    return lesson && { slug, title: `${lesson.data.code}: ${lesson.data.title}`, href: `/lessons/${slug}` };
  };
  const labLinks = labs.map((l) => ({ slug: l.slug, title: l.lab.title, href: `/labs/${l.slug}`, lesson: l.lab.lesson }));
  const quizLinks = quizzes.map((q) => ({ slug: q.slug, title: q.data.title, href: `/quizzes/${q.slug}`, lesson: q.data.lesson }));
  const link = ({ slug, title, href }: ActivityLink): ActivityLink => ({ slug, title, href });
  const lessonOrder = (slug: string) => lessons.get(slug)?.data.order ?? Number.MAX_SAFE_INTEGER;
  const byLesson = <T extends { lesson: ActivityLink | undefined; title: string }>(a: T, b: T) =>
    lessonOrder(a.lesson?.slug ?? '') - lessonOrder(b.lesson?.slug ?? '') || a.title.localeCompare(b.title);

  const labEntries: LabEntry[] = labs
    .map((l) => ({
      slug: l.slug,
      title: l.lab.title,
      href: `/labs/${l.slug}`,
      summary: l.lab.summary,
      steps: l.lab.steps.length,
      engine: engine.fit(l.lab.engine),
      lesson: lessonLink(l.lab.lesson),
      quizzes: quizLinks.filter((q) => q.lesson === l.lab.lesson).map(link).sort(ownFirst(lessons.get(l.lab.lesson)?.data.quiz)),
    }))
    .sort(byLesson);
  const quizEntries: QuizEntry[] = quizzes
    .map((q) => ({
      slug: q.slug,
      title: q.data.title,
      href: `/quizzes/${q.slug}`,
      description: q.data.description ?? '',
      questionsPerAttempt: questionsPerAttempt(q.data),
      passPercent: q.data.passPercent,
      lesson: lessonLink(q.data.lesson),
      labs: labLinks.filter((l) => l.lesson === q.data.lesson).map(link).sort(ownFirst(lessons.get(q.data.lesson)?.data.lab)),
    }))
    .sort(byLesson);
  return {
    labs: labEntries,
    quizzes: quizEntries,
    lab: (slug) => labEntries.find((l) => l.slug === slug),
    quiz: (slug) => quizEntries.find((q) => q.slug === slug),
  };
}
