import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../server/learners/session.ts';
import { getEngine, respond } from '../../../../server/quiz/http.ts';

export const prerender = false;

/** The quiz as this learner sees it: attempts used, and the attempt in progress or the last one. */
export const GET: APIRoute = ({ params, cookies, url }) =>
  respond(async () => {
    const learner = currentLearner(cookies, url, { create: false });
    return (await getEngine()).state(learner?.id ?? '', params.slug ?? '');
  });
