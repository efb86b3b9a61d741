import type { APIRoute } from 'astro';
import { classRespond, dashboardOf, mustBeInstructor, mustGetClass } from '../../../../server/classes/http.ts';
import { dashboardCsv } from '../../../../lib/class-csv.ts';

export const prerender = false;

/** The dashboard's figures as CSV (one row per learner and step, and per learner and quiz). */
export const GET: APIRoute = ({ params, request, cookies, locals }) =>
  classRespond('GET /api/classes/<id>/dashboard.csv', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    const klass = await mustGetClass(locals.services, params.id, instructor);
    const file = `class-${klass.name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40) || 'export'}.csv`;
    return new Response(dashboardCsv(await dashboardOf(locals.services, klass)), {
      headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${file}"`, 'cache-control': 'no-store' },
    });
  });
