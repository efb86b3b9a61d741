import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../../../server/learners/session.ts';
import { QuizError } from '../../../../../../server/quiz/attempts.ts';
import { respond } from '../../../../../../server/quiz/http.ts';

export const prerender = false;

/** Grades the whole attempt and returns the quiz state with every result and the score. */
export const POST: APIRoute = ({ params, cookies, url, locals }) =>
  respond(async () => {
    const learner = await currentLearner(locals.services.learners, cookies, url, { create: false });
    if (!learner) throw new QuizError(401, 'no learner session', 'start the quiz first (your browser must accept cookies)');
    return (await locals.services.quizzes()).submit(learner.id, params.slug ?? '', params.attempt ?? '');
  });
