import type { APIRoute } from 'astro';
import { callerOf, drillRespond } from '../../../../server/drill/http.ts';

export const prerender = false;

/** The drill as the caller may see it (participant cookie or facilitator bearer token; 403 otherwise). */
export const GET: APIRoute = ({ params, request, cookies, url, locals }) => drillRespond(locals.services.drills, async (service) => service.view(params.id ?? '', await callerOf(locals.services.learners, request, cookies, url)));
