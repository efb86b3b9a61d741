import type { APIRoute } from 'astro';
import { callerOf, drillRespond, readBody } from '../../../../server/drill/http.ts';

export const prerender = false;

/** Facilitator: a manual message {title, body}, or {injectId} to fire a scripted inject now (its condition still applies). */
export const POST: APIRoute = ({ params, request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const body = await readBody(request);
    const entry = await service.inject(params.id ?? '', await callerOf(locals.services.learners, request, cookies, url), {
      ...(typeof body.injectId === 'string' ? { injectId: body.injectId } : {}),
      ...(typeof body.title === 'string' ? { title: body.title } : {}),
      ...(typeof body.body === 'string' ? { body: body.body } : {}),
    });
    return { entry };
  }, 201);
