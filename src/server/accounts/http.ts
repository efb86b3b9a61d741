/**
 * The cookies and checks the sign-in pages share (src/pages/auth/*, src/pages/account.astro).
 */
import type { AstroCookies } from 'astro';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from '../learners/learners.ts';
import { PENDING_TTL_MS } from './pending-sign-ins.ts';

/** The state of a sign-in under way: the callback must come back to the browser that started it. */
export const STATE_COOKIE = 'irlab_oidc_state';
/** What a sign-in's merge had to say (lab and quiz slugs only), shown once on /account. */
export const NOTES_COOKIE = 'irlab_sign_in_notes';

const secure = (url: URL) => url.protocol === 'https:';

export function setStateCookie(cookies: AstroCookies, url: URL, state: string): void {
  // Lax, not strict: the provider's redirect back is a top-level navigation from another site.
  cookies.set(STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', path: '/auth/', maxAge: PENDING_TTL_MS / 1000, secure: secure(url) });
}

export function takeStateCookie(cookies: AstroCookies): string | undefined {
  const value = cookies.get(STATE_COOKIE)?.value;
  cookies.delete(STATE_COOKIE, { path: '/auth/' });
  return value;
}

export function setSessionCookie(cookies: AstroCookies, url: URL, token: string): void {
  cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: SESSION_MAX_AGE_SECONDS, secure: secure(url) });
}

export function setNotesCookie(cookies: AstroCookies, url: URL, notes: string[]): void {
  cookies.set(NOTES_COOKIE, Buffer.from(JSON.stringify(notes.slice(0, 20))).toString('base64url'), { httpOnly: true, sameSite: 'lax', path: '/account', maxAge: 300, secure: secure(url) });
}

export function takeNotesCookie(cookies: AstroCookies): string[] {
  const raw = cookies.get(NOTES_COOKIE)?.value;
  if (!raw) return [];
  cookies.delete(NOTES_COOKIE, { path: '/account' });
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string').slice(0, 20) : [];
  } catch {
    return [];
  }
}

/**
 * A form POST that changes who the browser is (sign-out, roles) must come from this site: an
 * Origin header, when sent, names this server; a browser that says the request is cross-site is
 * refused. (The session cookie is SameSite=Lax as well, so a cross-site POST carries none.)
 */
export function sameOriginPost(request: Request, url: URL, publicUrl: string): boolean {
  if (request.method !== 'POST') return false;
  const origin = request.headers.get('origin');
  if (origin !== null) return origin === url.origin || origin === new URL(publicUrl).origin;
  return request.headers.get('sec-fetch-site') !== 'cross-site';
}
