import type { APIRoute } from 'astro';
import { callerOf, drillRespond, readBody } from '../../../../../server/drill/http.ts';

export const prerender = false;

/** Facilitator: mark an expectation {met: boolean} → DrillView. */
export const POST: APIRoute = ({ params, request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const body = await readBody(request);
    return service.markExpectation(params.id ?? '', await callerOf(locals.services.learners, request, cookies, url), params.expectationId ?? '', body.met as boolean);
  });
