import type { APIRoute } from 'astro';
import { callerOf, drillRespond } from '../../../../server/drill/http.ts';

export const prerender = false;

/** The after-action report (DrillReport JSON), once the drill has ended; participants and facilitator. */
export const GET: APIRoute = ({ params, request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const id = params.id ?? '';
    await service.authorize(id, await callerOf(locals.services.learners, request, cookies, url));
    return service.report(id);
  });
