/**
 * Every lab and quiz written for a lesson, for the lesson page: an instructor's new lab or quiz
 * shows up there as soon as its file names the lesson, with no page to edit. Read through the
 * validators, so the page lists only what `irlab validate` accepts.
 */
import { validateProjectLabs } from '../lab/labs.ts';
import type { LabEngineNeed } from '../../lib/lab-engine.ts';
import { validateQuizzes } from './quizzes.ts';

export interface LessonActivity {
  slug: string;
  title: string;
  summary: string;
  href: string;
  /** A lab's `engine` (what it needs); absent for quizzes. */
  engine?: LabEngineNeed;
}

export async function lessonActivities(lesson: string, root = process.env.IRLAB_ROOT || process.cwd()): Promise<{ labs: LessonActivity[]; quizzes: LessonActivity[] }> {
  const { labs, lessonReport } = await validateProjectLabs(root);
  const { quizzes } = await validateQuizzes(root, lessonReport.lessons);
  return {
    labs: labs
      .filter((l) => l.lab.lesson === lesson)
      .map((l) => ({ slug: l.slug, title: l.lab.title, summary: l.lab.summary, href: `/labs/${l.slug}`, engine: l.lab.engine })),
    quizzes: quizzes
      .filter((q) => q.data.lesson === lesson)
      .map((q) => ({ slug: q.slug, title: q.data.title, summary: q.data.description ?? '', href: `/quizzes/${q.slug}` })),
  };
}
