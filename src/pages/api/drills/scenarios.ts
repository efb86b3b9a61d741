import type { APIRoute } from 'astro';
import { drillRespond } from '../../../server/drill/http.ts';

export const prerender = false;

/** The scenarios that ship a drill.yaml: [{slug, title, summary, defaultDurationMinutes, roles}]. */
export const GET: APIRoute = ({ locals }) => drillRespond(locals.services.drills, (service) => service.scenarios());
