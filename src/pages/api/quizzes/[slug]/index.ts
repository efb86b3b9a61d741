import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../server/learners/session.ts';
import { respond } from '../../../../server/quiz/http.ts';

export const prerender = false;

/** The quiz as this learner sees it: attempts used, and the attempt in progress or the last one. */
export const GET: APIRoute = ({ params, cookies, url, locals }) =>
  respond(async () => {
    const learner = await currentLearner(locals.services.learners, cookies, url, { create: false });
    return (await locals.services.quizzes()).state(learner?.id ?? '', params.slug ?? '');
  });
