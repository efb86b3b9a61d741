import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../../server/learners/session.ts';
import { respond } from '../../../../../server/quiz/http.ts';

export const prerender = false;

/** Starts an attempt (or returns the one in progress); creates the learner's session if needed. */
export const POST: APIRoute = ({ params, cookies, url, locals }) =>
  respond(async () => {
    const learner = (await currentLearner(locals.services.learners, cookies, url, { create: true }))!;
    return (await locals.services.quizzes()).start(learner.id, params.slug ?? '');
  });
