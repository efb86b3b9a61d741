import type { APIRoute } from 'astro';
import { classRespond, dashboardOf, dashboardResponse, mustBeInstructor, mustGetClass } from '../../../../server/classes/http.ts';

export const prerender = false;

/** The dashboard as JSON; poll it with If-None-Match (304 while nothing changed). */
export const GET: APIRoute = ({ params, request, cookies, locals }) =>
  classRespond('GET /api/classes/<id>/dashboard', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    return dashboardResponse(await dashboardOf(locals.services, await mustGetClass(locals.services, params.id, instructor)), request);
  });
