import type { APIRoute } from 'astro';
import { classRespond, json } from '../../../server/classes/http.ts';
import { endpointAddress } from '../../../server/http/client-address.ts';
import { readJsonObject } from '../../../server/http/endpoint.ts';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from '../../../server/learners/learners.ts';
import { tooManyRequests } from '../../../server/limits/server-limits.ts';

export const prerender = false;

/**
 * Join a class: {code, name, rejoinKey?} → {classId, name, href, rejoinKey (once)}. Every attempt,
 * right or wrong, spends the join budget (guessing codes). A browser without a learner gets one,
 * named; `rejoinKey` moves this browser to the learner who joined with that name.
 */
export const POST: APIRoute = (context) =>
  classRespond('POST /api/classes/join', async () => {
    const { request, cookies, locals, url } = context;
    const current = await locals.services.learners.fromSession(cookies.get(SESSION_COOKIE)?.value);
    const refused = await locals.services.limits.join({ learner: current?.id, address: endpointAddress(context) });
    if (refused) return tooManyRequests(refused);
    const body = await readJsonObject(request);
    const joined = await locals.services.classes.join({ code: body.code, name: body.name, rejoinKey: body.rejoinKey, current: current?.id });
    if (joined.token) {
      // Switching to another learner (a rejoin): this browser's old session is forgotten.
      if (current) await locals.services.learners.endSession(cookies.get(SESSION_COOKIE)?.value);
      cookies.set(SESSION_COOKIE, joined.token, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: SESSION_MAX_AGE_SECONDS, secure: url.protocol === 'https:' });
    }
    return json({ classId: joined.classId, name: joined.name, href: `/classes/${joined.classId}`, ...(joined.rejoinKey ? { rejoinKey: joined.rejoinKey } : {}) });
  });
