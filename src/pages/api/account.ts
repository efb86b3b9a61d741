import type { APIRoute } from 'astro';
import { requestAccess } from '../../server/instructors/access.ts';
import { respond } from '../../server/quiz/http.ts';

export const prerender = false;

/**
 * The header's account control: whether sign-in is offered, and who is signed in (name and roles).
 * Never creates a learner; says nothing about the instructor token.
 */
export const GET: APIRoute = ({ request, cookies, locals }) =>
  respond(async () => {
    const { services } = locals;
    const access = await requestAccess(services, request, cookies);
    return {
      offered: services.signIn !== undefined,
      signedIn: access.signedIn,
      ...(access.signedIn ? { name: access.learner?.displayName ?? (await services.identities.identitiesOf(access.learner!.id)).find((i) => i.email)?.email ?? 'Your account', roles: access.roles } : {}),
    };
  });
