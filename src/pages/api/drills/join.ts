import type { APIRoute } from 'astro';
import { drillRespond, readBody } from '../../../server/drill/http.ts';
import { currentLearner } from '../../../server/learners/session.ts';

export const prerender = false;

/** Join: {code, name, role} → {drill, participant}; creates the learner session cookie if needed. */
export const POST: APIRoute = ({ request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const body = await readBody(request);
    const learner = (await currentLearner(locals.services.learners, cookies, url, { create: true }))!;
    return service.join(String(body.code ?? ''), learner.id, String(body.name ?? ''), String(body.role ?? ''));
  });
