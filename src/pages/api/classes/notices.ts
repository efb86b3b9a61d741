import type { APIRoute } from 'astro';
import { classRespond, json, noticesOf } from '../../../server/classes/http.ts';
import { readJsonObject } from '../../../server/http/endpoint.ts';
import { SESSION_COOKIE } from '../../../server/learners/learners.ts';

export const prerender = false;

/** The learner's messages from their classes, and whether their terminal is watched (the lab page polls it). */
export const GET: APIRoute = ({ cookies, locals }) => classRespond('GET /api/classes/notices', async () => json(await noticesOf(locals.services, cookies)));

/** {dismiss: <message id>}: the message stays hidden for this learner. */
export const POST: APIRoute = ({ request, cookies, locals }) =>
  classRespond('POST /api/classes/notices', async () => {
    const learner = await locals.services.learners.fromSession(cookies.get(SESSION_COOKIE)?.value);
    const body = await readJsonObject(request);
    if (learner) await locals.services.classes.dismiss(learner.id, body.dismiss);
    return json(await noticesOf(locals.services, cookies));
  });
