/**
 * The one question the rest of the server asks: may this request act as an instructor, or as the
 * operator? Yes for a signed-in learner holding the role (an operator is an instructor too), and
 * yes for a request carrying the instructor token (cookie or Bearer header), which is what the
 * instructor pages accepted before sign-in existed and still accept.
 */
import type { AstroCookies } from 'astro';
import { SESSION_COOKIE, type Learner, type LearnerService } from '../learners/learners.ts';
import { instructorGate } from './page-gate.ts';
import type { Role, RoleService } from './roles.ts';
import { INSTRUCTOR_COOKIE, isInstructor } from './token.ts';

export interface AccessDeps {
  learners: LearnerService;
  roles: RoleService;
  instructorToken: string;
}

export interface Access {
  /** The learner behind the session cookie (never created here). */
  learner: Learner | undefined;
  signedIn: boolean;
  roles: Role[];
  /** The request carries the instructor token. */
  token: boolean;
  instructor: boolean;
  operator: boolean;
}

/** Pure: the answer from what a request carries. */
export function accessFrom(learner: Learner | undefined, signedIn: boolean, roles: Role[], token: boolean): Access {
  const operator = token || roles.includes('operator');
  return { learner, signedIn, roles, token, instructor: operator || roles.includes('instructor'), operator };
}

export function requestAccess(deps: AccessDeps, request: Request, cookies: AstroCookies): Access {
  const learner = deps.learners.fromSession(cookies.get(SESSION_COOKIE)?.value);
  const signedIn = learner ? deps.roles.signedIn(learner.id) : false;
  const roles = learner && signedIn ? deps.roles.rolesOf(learner.id) : [];
  return accessFrom(learner, signedIn, roles, isInstructor(deps.instructorToken, request, cookies.get(INSTRUCTOR_COOKIE)?.value));
}

/**
 * The instructor pages' door: the token form (page-gate.ts) as before, and a signed-in instructor
 * or operator walks straight in. `need: 'operator'` for pages that change who holds a role.
 */
export async function instructorPageAccess(
  deps: AccessDeps,
  request: Request,
  url: URL,
  cookies: AstroCookies,
  need: 'instructor' | 'operator' = 'instructor',
): Promise<{ redirect: string } | { allowed: boolean; rejected: boolean; access: Access }> {
  const gate = await instructorGate(request, url, cookies, deps.instructorToken);
  if ('redirect' in gate) return gate;
  const access = requestAccess(deps, request, cookies);
  return { allowed: gate.allowed || access[need], rejected: gate.rejected, access };
}
