/**
 * Who may run classes: the ONE check every class page, endpoint and the terminal watch route call.
 * Today it is the instructor token (cookie or Bearer, src/server/instructors/token.ts); when roles
 * arrive (an instructor of a class, the operator), this is the function to switch. The instructor
 * is named by their learner id when the browser has a learner cookie, else "operator".
 */
import type { IncomingMessage } from 'node:http';
import type { AstroCookies } from 'astro';
import { INSTRUCTOR_COOKIE, tokenMatches } from '../instructors/token.ts';
import { SESSION_COOKIE, type LearnerService } from '../learners/learners.ts';
import { readCookie } from '../http/terminal-routes.ts';

export interface ClassInstructor {
  /** The instructor's learner id, or 'operator'. */
  id: string;
}

export interface InstructorCredentials {
  authorization: string | null | undefined;
  instructorCookie: string | undefined;
  sessionCookie: string | undefined;
}

export function classInstructor(instructorToken: string, learners: LearnerService, credentials: InstructorCredentials): ClassInstructor | undefined {
  // Read here rather than through a Request: a header value Headers refuses (a NUL from a raw
  // upgrade request) must be no instructor, not an exception.
  const bearer = /^Bearer\s+(.+)$/i.exec(credentials.authorization ?? '')?.[1];
  if (!tokenMatches(bearer, instructorToken) && !tokenMatches(credentials.instructorCookie, instructorToken)) return undefined;
  return { id: learners.fromSession(credentials.sessionCookie)?.id ?? 'operator' };
}

/** For Astro pages and endpoints. */
export function instructorOf(services: { instructorToken: string; learners: LearnerService }, request: Request, cookies: AstroCookies): ClassInstructor | undefined {
  return classInstructor(services.instructorToken, services.learners, {
    authorization: request.headers.get('authorization'),
    instructorCookie: cookies.get(INSTRUCTOR_COOKIE)?.value,
    sessionCookie: cookies.get(SESSION_COOKIE)?.value,
  });
}

/** For irlab's own Node routes (the terminal's watch upgrade). */
export function instructorOfNode(services: { instructorToken: string; learners: LearnerService }, req: IncomingMessage): ClassInstructor | undefined {
  return classInstructor(services.instructorToken, services.learners, {
    authorization: req.headers.authorization,
    instructorCookie: readCookie(req.headers.cookie, INSTRUCTOR_COOKIE),
    sessionCookie: readCookie(req.headers.cookie, SESSION_COOKIE),
  });
}
