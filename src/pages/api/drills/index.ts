import type { APIRoute } from 'astro';
import { drillRespond, readBody } from '../../../server/drill/http.ts';
import { endpointAddress } from '../../../server/http/client-address.ts';
import { currentLearner } from '../../../server/learners/session.ts';
import { tooManyRequests } from '../../../server/limits/server-limits.ts';

export const prerender = false;

/** Create a drill: {scenario, title?, durationMinutes, roles} → 201 {drill, facilitatorToken} (the token is shown once). */
export const POST: APIRoute = async (context) => {
  const { request, cookies, url } = context;
  const { drills, limits, learners, config } = context.locals.services;
  // On a cell the front placed the drill under an id of its drawing, in the path it signed.
  const placedId = config.cells.role === 'cell' ? url.searchParams.get('drill') ?? undefined : undefined;
  // A drill claims a cluster: it spends a cluster start of its creator (their learner cookie, if any) and address.
  const refused = await limits.clusterStart({ learner: (await currentLearner(learners, cookies, url, { create: false }))?.id, address: endpointAddress(context) });
  if (refused) return tooManyRequests(refused);
  return drillRespond(drills, async (service) => {
    const body = await readBody(request);
    return service.create({
      scenario: String(body.scenario ?? ''),
      ...(typeof body.title === 'string' ? { title: body.title } : {}),
      durationMinutes: Number(body.durationMinutes),
      roles: Array.isArray(body.roles) ? body.roles.map(String) : [],
      ...(placedId === undefined ? {} : { id: placedId }),
    });
  }, 201);
};
