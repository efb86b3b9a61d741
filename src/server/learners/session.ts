/**
 * The learner behind an HTTP request: read from the httpOnly session cookie, or created on the
 * spot (with a new cookie) when the request is allowed to create one.
 */
import type { AstroCookies } from 'astro';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, type Learner, type LearnerService } from './learners.ts';

/** `learners` is the server's one learner service (`Astro.locals.services.learners`). */
export async function currentLearner(learners: LearnerService, cookies: AstroCookies, url: URL, options: { create: boolean }): Promise<Learner | undefined> {
  const found = await learners.fromSession(cookies.get(SESSION_COOKIE)?.value);
  if (found || !options.create) return found;
  const { learner, token } = await learners.create();
  cookies.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: SESSION_MAX_AGE_SECONDS,
    secure: url.protocol === 'https:',
  });
  return learner;
}
