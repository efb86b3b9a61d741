import type { APIRoute } from 'astro';
import { callerOf, drillRespond, readBody } from '../../../../server/drill/http.ts';

export const prerender = false;

/** Participants: the team's answers to the investigation questions {answers: {id: text}} → DrillView. */
export const POST: APIRoute = ({ params, request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const body = await readBody(request);
    const answers = typeof body.answers === 'object' && body.answers !== null ? (body.answers as Record<string, unknown>) : {};
    return service.answer(params.id ?? '', await callerOf(locals.services.learners, request, cookies, url), answers);
  });
