/**
 * The LTI routes, among irlab's own (http-server.ts), since the platform posts forms to them
 * across sites and they set cookies and redirect:
 *   GET  /lti/jwks        irlab's public key (platforms verify our Deep Linking responses and client assertions)
 *   GET|POST /lti/login   OIDC login initiation → 302 to the platform's auth endpoint
 *   POST /lti/launch      the platform's form_post of id_token + state → 303 into the lab or quiz, or the picker
 *   POST /lti/deep-link   the instructor's pick → a page posting the signed response back to the LMS
 * Every refusal is a 4xx page (or JSON when asked) saying what was wrong and what to check; no
 * token is ever echoed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, type LearnerService } from '../learners/learners.ts';
import { requestAddress } from '../http/client-address.ts';
import { logUnexpected, sendJson } from '../http/endpoint.ts';
import { RateLimiter, type Rate } from '../limits/rate-limit.ts';
import { readCookie } from '../http/terminal-routes.ts';
import { LtiError } from './claims.ts';
import { stateCookieName, type LtiService } from './lti-service.ts';
import { autopostPage, errorPage, pickerPage } from './pages.ts';

const FORM_LIMIT = 64 * 1024;
/**
 * Logins per client address: each stores a row until it is used or expires, so an address may not
 * begin more than a class behind one NAT would (a few hundred launches a minute).
 */
const LOGIN_RATE: Rate = { limit: 300, windowMs: 60_000 };

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new LtiError(400, `the request is not a form post (content-type ${type.slice(0, 60) || 'missing'})`, 'the platform must post application/x-www-form-urlencoded');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT) throw new LtiError(400, `the form is larger than ${FORM_LIMIT} bytes`, 'the platform must post a smaller form');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const wantsJson = (req: IncomingMessage) => /application\/json/.test(String(req.headers.accept ?? '')) && !/text\/html/.test(String(req.headers.accept ?? ''));

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(html);
}

export function createLtiRoutes(lti: LtiService, learners: LearnerService, options: { secureCookies: boolean; now?: () => number }) {
  const logins = new RateLimiter(options.now);
  // The launch is a cross-site form post: only a SameSite=None cookie comes back with it, and
  // browsers accept that only with Secure, i.e. over https. Over http (a same-site simulator in
  // tests, a local trial) Lax is all a browser keeps; a real LMS needs IRLAB_PUBLIC_URL on https.
  const stateAttributes = options.secureCookies ? 'Path=/lti/; HttpOnly; SameSite=None; Secure' : 'Path=/lti/; HttpOnly; SameSite=Lax';
  const sessionAttributes = `Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_MAX_AGE_SECONDS}${options.secureCookies ? '; Secure' : ''}`;

  function refuse(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const refusal =
      error instanceof LtiError
        ? error
        : (logUnexpected(`${req.method} ${new URL(req.url ?? '/', 'http://irlab').pathname}`, error),
          new LtiError(400, 'irlab could not process this LTI request (the server log has the details)', 'launch again; if it keeps failing, irlab\'s operator reads the server log'));
    if (wantsJson(req)) return sendJson(res, refusal.status, { error: refusal.message, fix: refusal.fix });
    sendHtml(res, refusal.status, errorPage(refusal.message, refusal.fix));
  }

  async function login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const admitted = logins.take([{ key: `lti-login:${requestAddress(req)}`, rate: LOGIN_RATE }]);
    if (!admitted.ok) throw new LtiError(429, `too many LTI logins from this address (more than ${LOGIN_RATE.limit} a minute)`, `launch again in ${Math.ceil(admitted.retryAfterMs / 1000)} seconds`);
    const params = req.method === 'POST' ? await readForm(req) : url.searchParams;
    const get = (name: string) => params.get(name) ?? undefined;
    const { location, cookie } = await lti.login({
      iss: get('iss'),
      login_hint: get('login_hint'),
      target_link_uri: get('target_link_uri'),
      lti_message_hint: get('lti_message_hint'),
      client_id: get('client_id'),
      lti_deployment_id: get('lti_deployment_id'),
    });
    res.writeHead(302, { location, 'cache-control': 'no-store', 'set-cookie': `${cookie.name}=${cookie.value}; Max-Age=${cookie.maxAge}; ${stateAttributes}` });
    res.end();
  }

  async function launch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const state = form.get('state') ?? undefined;
    const session = readCookie(req.headers.cookie, SESSION_COOKIE);
    const result = await lti.launch(
      { id_token: form.get('id_token') ?? undefined, state },
      { state: state ? readCookie(req.headers.cookie, stateCookieName(state)) : undefined, session },
    );
    const clearState = state ? `${stateCookieName(state)}=; Max-Age=0; ${stateAttributes}` : undefined;
    if (result.kind === 'pick') {
      return sendHtml(res, 200, pickerPage({ pickToken: result.pickToken, platformName: result.platform.name, choices: result.choices, acceptMultiple: result.acceptMultiple }), clearState ? { 'set-cookie': clearState } : {});
    }
    // The browser's previous session (maybe another person's) ends: this browser is now this learner.
    await learners.endSession(session);
    res.writeHead(303, { location: result.location, 'cache-control': 'no-store', 'set-cookie': [`${SESSION_COOKIE}=${result.sessionToken}; ${sessionAttributes}`, ...(clearState ? [clearState] : [])] });
    res.end();
  }

  async function deepLink(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const picked = form.getAll('activity');
    if (!picked.length) throw new LtiError(400, 'no lab or quiz was chosen', 'go back, choose one and press "Add to the course"');
    const { returnUrl, jwt } = await lti.deepLinkResponse(form.get('pick') ?? undefined, picked);
    const { html, csp } = autopostPage(returnUrl, jwt);
    sendHtml(res, 200, html, { 'content-security-policy': csp });
  }

  return {
    /** Answers an LTI route and returns true, or returns false: not an LTI route. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const url = new URL(req.url ?? '/', 'http://irlab');
      const route = url.pathname;
      if (!route.startsWith('/lti/')) return false;
      try {
        if (route === '/lti/jwks' && req.method === 'GET') sendJson(res, 200, lti.jwks(), { 'cache-control': 'public, max-age=300' });
        else if (route === '/lti/login' && (req.method === 'GET' || req.method === 'POST')) await login(req, res, url);
        else if (route === '/lti/launch' && req.method === 'POST') await launch(req, res);
        else if (route === '/lti/deep-link' && req.method === 'POST') await deepLink(req, res);
        else throw new LtiError(404, `there is no LTI route ${req.method} ${route.slice(0, 80)}`, 'register irlab with the URLs docs/classes.md lists (/lti/login, /lti/launch, /lti/jwks)');
      } catch (error) {
        if (res.headersSent) res.destroy();
        else refuse(req, res, error);
      }
      return true;
    },
  };
}
