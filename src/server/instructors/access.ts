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

/** From the session cookie's value, the instructor cookie's value and the Authorization header. */
export async function accessOf(deps: AccessDeps, credentials: { session: string | undefined; instructorCookie: string | undefined; authorization: string | null | undefined }): Promise<Access> {
  const learner = await deps.learners.fromSession(credentials.session);
  const signedIn = learner ? await deps.roles.signedIn(learner.id) : false;
  const roles = learner && signedIn ? await deps.roles.rolesOf(learner.id) : [];
  const token = isInstructor(deps.instructorToken, new Request('http://irlab.invalid/', { headers: credentials.authorization ? { authorization: credentials.authorization } : {} }), credentials.instructorCookie);
  return accessFrom(learner, signedIn, roles, token);
}

/** For Astro's pages and endpoints. */
export function requestAccess(deps: AccessDeps, request: Request, cookies: AstroCookies): Promise<Access> {
  return accessOf(deps, { session: cookies.get(SESSION_COOKIE)?.value, instructorCookie: cookies.get(INSTRUCTOR_COOKIE)?.value, authorization: request.headers.get('authorization') });
}

/** For irlab's own routes (src/server/http, WebSocket upgrades): the request's raw headers. */
export function headersAccess(deps: AccessDeps, headers: { cookie?: string | undefined; authorization?: string | undefined }): Promise<Access> {
  const cookies = new Map<string, string>();
  for (const part of (headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) {
      const name = part.slice(0, at).trim();
      // The first of a repeated name wins, as browsers send the most specific path first.
      if (!cookies.has(name)) cookies.set(name, safeDecode(part.slice(at + 1).trim()));
    }
  }
  return accessOf(deps, { session: cookies.get(SESSION_COOKIE), instructorCookie: cookies.get(INSTRUCTOR_COOKIE), authorization: headers.authorization });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
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
  const access = await requestAccess(deps, request, cookies);
  return { allowed: gate.allowed || access[need], rejected: gate.rejected, access };
}
