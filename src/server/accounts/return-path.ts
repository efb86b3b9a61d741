/**
 * Where a browser goes after signing in: only a path on this site. Anything that could leave it
 * (`//host`, `/\host`, `https://...`, control characters a browser would strip) becomes `/`.
 */
export function safeReturnPath(raw: string | null | undefined, fallback = '/'): string {
  if (!raw || raw.length > 2000 || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return fallback;
  const base = 'http://irlab.invalid';
  if (!URL.canParse(raw, base)) return fallback;
  const url = new URL(raw, base);
  if (url.origin !== base) return fallback;
  // The sign-in pages themselves would loop.
  if (url.pathname.startsWith('/auth/')) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
