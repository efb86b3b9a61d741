/**
 * The instructor pages' door, one for all of them: a POSTed token that matches sets the instructor
 * cookie and redirects (303) to the same page; otherwise the page shows its figures only to a
 * request with the token (cookie or Bearer header), and a 401 with the sign-in form to anyone else.
 */
import type { AstroCookies } from 'astro';
import { INSTRUCTOR_COOKIE, isInstructor, tokenMatches } from './token.ts';

export type InstructorGate = { redirect: string } | { allowed: boolean; rejected: boolean };

export async function instructorGate(request: Request, url: URL, cookies: AstroCookies, token: string): Promise<InstructorGate> {
  let rejected = false;
  if (request.method === 'POST') {
    const form = await request.formData().catch(() => undefined);
    const candidate = String(form?.get('token') ?? '');
    if (tokenMatches(candidate, token)) {
      cookies.set(INSTRUCTOR_COOKIE, candidate, { httpOnly: true, sameSite: 'strict', path: '/', secure: url.protocol === 'https:', maxAge: 12 * 3600 });
      return { redirect: url.pathname };
    }
    rejected = true;
  }
  return { allowed: !rejected && isInstructor(token, request, cookies.get(INSTRUCTOR_COOKIE)?.value), rejected };
}
