import type { APIRoute } from 'astro';
import { callerOf, drillRespond, readBody } from '../../../../server/drill/http.ts';

export const prerender = false;

/** Facilitator: {action: start|pause|resume|end} or {action: 'fast-forward', minutes} → DrillView. */
export const POST: APIRoute = ({ params, request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const body = await readBody(request);
    return service.control(params.id ?? '', await callerOf(locals.services.learners, request, cookies, url), String(body.action ?? ''), body.minutes === undefined ? undefined : Number(body.minutes));
  });
