/**
 * Headers every answer of the server carries, set before any route runs: no MIME sniffing, no
 * referrer beyond our own origin, no framing, and a Content-Security-Policy. Astro's pages replace
 * this default policy with their own (astro.config.ts: the same directives plus the hashes of the
 * scripts Astro inlines); JSON, files and irlab's own routes keep it.
 *
 * Cookies get `Secure` when the request came over HTTPS: a TLS socket, or, only when the operator
 * says a proxy terminates TLS in front of irlab (IRLAB_TRUST_PROXY=1), `X-Forwarded-Proto: https`.
 * Without that setting X-Forwarded-Proto is ignored: anyone can send it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

export const DEFAULT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** IRLAB_TRUST_PROXY=1: a reverse proxy in front of irlab sets X-Forwarded-Proto, and only it can. */
export function trustsProxy(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'true', 'yes'].includes((env.IRLAB_TRUST_PROXY ?? '').trim().toLowerCase());
}

export function requestIsHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  if (!trustProxy) return false;
  // The proxy nearest to us appends last; a client can only prepend.
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',').at(-1)?.trim().toLowerCase();
  return forwarded === 'https';
}

/** `Host` as a browser or proxy sends it: a name or an address, maybe a port. Anything else is refused (400). */
export function validHost(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0; Node refuses an HTTP/1.1 request without one
  const match = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9.])?)(?::(\d{1,5}))?$/.exec(host);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

const hasSecure = (cookie: string) => /;\s*secure\s*(?:;|$)/i.test(cookie);
const withSecure = (cookie: string) => (hasSecure(cookie) ? cookie : `${cookie}; Secure`);

/**
 * Sets the headers on `res`. Under HTTPS, every Set-Cookie gets `Secure`, whoever sets it (Astro's
 * cookies, our session routes): Node's writeHead passes its headers through `setHeader` once any
 * header was set by `setHeader`, which this function always does first.
 */
export function applySecurityHeaders(req: IncomingMessage, res: ServerResponse, options: { trustProxy: boolean }): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', DEFAULT_CSP);
  if (!requestIsHttps(req, options.trustProxy)) return;
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    if (name.toLowerCase() !== 'set-cookie') return setHeader(name, value);
    return setHeader(name, Array.isArray(value) ? value.map((v) => withSecure(String(v))) : withSecure(String(value)));
  };
}
