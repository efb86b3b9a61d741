import type { APIRoute } from 'astro';
import { callerOf, drillRespond, readBody } from '../../../../server/drill/http.ts';

export const prerender = false;

/** A note or decision {kind, text} → 201 LogEntry; the author is the caller, never the body. */
export const POST: APIRoute = ({ params, request, cookies, url, locals }) =>
  drillRespond(locals.services.drills, async (service) => {
    const body = await readBody(request);
    return service.post(params.id ?? '', await callerOf(locals.services.learners, request, cookies, url), body.kind as 'note' | 'decision', String(body.text ?? ''));
  }, 201);
