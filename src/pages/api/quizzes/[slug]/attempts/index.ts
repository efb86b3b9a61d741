import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../../server/learners/session.ts';
import { getEngine, respond } from '../../../../../server/quiz/http.ts';

export const prerender = false;

/** Starts an attempt (or returns the one in progress); creates the learner's session if needed. */
export const POST: APIRoute = ({ params, cookies, url }) =>
  respond(async () => {
    const learner = currentLearner(cookies, url, { create: true })!;
    return (await getEngine()).start(learner.id, params.slug ?? '');
  });
