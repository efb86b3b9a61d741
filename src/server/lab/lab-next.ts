/**
 * What comes after a lab, for its completion screen: the lesson it belongs to, the lesson's quiz
 * and the lesson's next lab (the one after this in the lesson's list, else the first other one;
 * one this server can start before one it cannot, when `startsHere` is given).
 * Read through the same validators as the lesson page (lesson-activities.ts), once per lesson
 * unless content is live.
 */
import type { LabEngineNeed } from '../../lib/lab-engine.ts';
import type { LabNext } from '../../lib/lab-view.ts';
import { lessonActivities } from '../content/lesson-activities.ts';
import { validateLessons } from '../content/lessons.ts';
import type { LoadedLab } from './labs.ts';

export function labNextOf(root: string, live: boolean, startsHere: (need: LabEngineNeed) => boolean = () => true): (lab: LoadedLab) => Promise<LabNext | undefined> {
  const cache = new Map<string, Promise<LabNext | undefined>>();
  const compute = async (lab: LoadedLab): Promise<LabNext | undefined> => {
    const lesson = lab.lab.lesson;
    if (!lesson) return undefined;
    const [{ labs, quizzes }, { lessons }] = await Promise.all([lessonActivities(lesson, root), validateLessons(root)]);
    const title = lessons.find((l) => l.slug === lesson)?.data.title ?? lesson;
    const here = labs.findIndex((l) => l.slug === lab.slug);
    const others = [...labs.slice(here + 1), ...labs.slice(0, Math.max(0, here))].filter((l) => l.slug !== lab.slug);
    const quiz = quizzes[0];
    const nextLab = others.find((l) => startsHere(l.engine ?? 'any')) ?? others[0];
    return {
      lesson: { title, href: `/lessons/${lesson}` },
      ...(quiz ? { quiz: { title: quiz.title, href: quiz.href } } : {}),
      ...(nextLab ? { lab: { title: nextLab.title, href: nextLab.href } } : {}),
    };
  };
  return (lab) => {
    const key = `${lab.slug}\u0000${lab.lab.lesson ?? ''}`;
    if (live) return compute(lab);
    let found = cache.get(key);
    if (!found) {
      found = compute(lab).catch((error: unknown) => {
        cache.delete(key);
        console.error(`irlab: what comes after lab ${lab.slug} could not be worked out: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      cache.set(key, found);
    }
    return found;
  };
}
