import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../server/learners/session.ts';
import { labRespond } from '../../../../server/lab/http.ts';

export const prerender = false;

/** The lab as this learner sees it: steps, their progress, their run. */
export const GET: APIRoute = ({ params, cookies, url, locals }) =>
  labRespond(locals.services.labs, async (service) => {
    const learner = (await currentLearner(locals.services.learners, cookies, url, { create: true }))!;
    return service.view(learner.id, params.slug ?? '');
  });
