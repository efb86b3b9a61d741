import type { APIRoute } from 'astro';
import { drillRespond, readBody } from '../../../server/drill/http.ts';

export const prerender = false;

/** Create a drill: {scenario, title?, durationMinutes, roles} → 201 {drill, facilitatorToken} (the token is shown once). */
export const POST: APIRoute = ({ request }) =>
  drillRespond(async (service) => {
    const body = await readBody(request);
    return service.create({
      scenario: String(body.scenario ?? ''),
      ...(typeof body.title === 'string' ? { title: body.title } : {}),
      durationMinutes: Number(body.durationMinutes),
      roles: Array.isArray(body.roles) ? body.roles.map(String) : [],
    });
  }, 201);
