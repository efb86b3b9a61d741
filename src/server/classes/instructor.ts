/**
 * Who may run classes: the ONE check every class page, endpoint and the terminal watch route call.
 * A signed-in learner with the instructor or operator role (src/server/instructors/roles.ts), or a
 * request with the instructor token (cookie or Bearer: the operator's bootstrap credential). The
 * instructor is named by their learner id when the browser has a learner cookie, else "operator".
 * An instructor manages the classes they created; the operator every class.
 */
import type { IncomingMessage } from 'node:http';
import type { AstroCookies } from 'astro';
import { INSTRUCTOR_COOKIE, tokenMatches } from '../instructors/token.ts';
import { SESSION_COOKIE, type LearnerService } from '../learners/learners.ts';
import type { RoleService } from '../instructors/roles.ts';
import { readCookie } from '../http/terminal-routes.ts';

export interface ClassInstructor {
  /** The instructor's learner id, or 'operator'. */
  id: string;
  /** The token or the operator role: every class, not only their own. */
  operator: boolean;
}

export interface InstructorDeps {
  instructorToken: string;
  learners: LearnerService;
  roles: RoleService;
}

/** Whether this instructor manages the class (created it, or is the operator). */
export function manages(instructor: ClassInstructor, klass: { createdBy: string }): boolean {
  return instructor.operator || klass.createdBy === instructor.id;
}

export interface InstructorCredentials {
  authorization: string | null | undefined;
  instructorCookie: string | undefined;
  sessionCookie: string | undefined;
}

export async function classInstructor({ instructorToken, learners, roles }: InstructorDeps, credentials: InstructorCredentials): Promise<ClassInstructor | undefined> {
  // Read here rather than through a Request: a header value Headers refuses (a NUL from a raw
  // upgrade request) must be no instructor, not an exception.
  const bearer = /^Bearer\s+(.+)$/i.exec(credentials.authorization ?? '')?.[1];
  const token = tokenMatches(bearer, instructorToken) || tokenMatches(credentials.instructorCookie, instructorToken);
  const learner = await learners.fromSession(credentials.sessionCookie);
  const held = learner && (await roles.signedIn(learner.id)) ? await roles.rolesOf(learner.id) : [];
  const operator = token || held.includes('operator');
  if (!operator && !held.includes('instructor')) return undefined;
  return { id: learner?.id ?? 'operator', operator };
}

/** For Astro pages and endpoints. */
export function instructorOf(services: InstructorDeps, request: Request, cookies: AstroCookies): Promise<ClassInstructor | undefined> {
  return classInstructor(services, {
    authorization: request.headers.get('authorization'),
    instructorCookie: cookies.get(INSTRUCTOR_COOKIE)?.value,
    sessionCookie: cookies.get(SESSION_COOKIE)?.value,
  });
}

/** For irlab's own Node routes (the terminal's watch upgrade). */
export function instructorOfNode(services: InstructorDeps, req: IncomingMessage): Promise<ClassInstructor | undefined> {
  return classInstructor(services, {
    authorization: req.headers.authorization,
    instructorCookie: readCookie(req.headers.cookie, INSTRUCTOR_COOKIE),
    sessionCookie: readCookie(req.headers.cookie, SESSION_COOKIE),
  });
}
