// Sign-in with OpenID Connect through the real server (serve.ts over the built site) and a real
// local provider (oidc-provider): an anonymous learner's quiz attempt becomes the account's, a
// second browser signing in as the same person sees it, replayed and forged callbacks are refused
// with a page (400, never a 5xx), and sign-out ends the session (from this site only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, CookieBrowser, startOidcProvider, type TestProvider } from './fixtures/oidc-provider.ts';
import { freePort, startRealServer, type RealServer } from './hostile/real-server.ts';

const QUIZ = 'l18';
let server: RealServer;
let provider: TestProvider;

beforeAll(async () => {
  const providerPort = await freePort();
  server = await startRealServer({ IRLAB_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`, IRLAB_OIDC_CLIENT_ID: CLIENT_ID, IRLAB_OIDC_CLIENT_SECRET: CLIENT_SECRET });
  provider = await startOidcProvider(providerPort, [`${server.base}/auth/callback`]);
}, 90_000);

afterAll(async () => {
  await provider?.stop();
  await server?.stop();
}, 60_000);

const json = async <T>(response: Response) => (await response.json()) as T;
interface QuizState {
  attemptsUsed: number;
  attempt?: { id: string };
}

/** Sign-in from the start to the provider's redirect back (not yet visited): the callback URL. */
async function toCallback(browser: CookieBrowser, login: string, returnTo: string): Promise<string> {
  const start = await browser.request(`${server.base}/auth/sign-in?return=${encodeURIComponent(returnTo)}`);
  expect(start.status).toBe(302);
  const location = start.headers.get('location')!;
  expect(location.startsWith(provider.issuer)).toBe(true);
  const authorize = new URL(location);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('nonce')).toBeTruthy();
  const callback = await browser.throughProvider(location, login);
  expect(callback.startsWith(`${server.base}/auth/callback?`)).toBe(true);
  return callback;
}

describe('sign-in through a local OpenID Connect provider, on the real server', () => {
  it('merges an anonymous quiz attempt into the account, which a second browser then sees; refuses replays and forgeries; signs out', async () => {
    const a = new CookieBrowser();
    const started = await a.request(`${server.base}/api/quizzes/${QUIZ}/attempts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(started.status).toBe(200);
    const attemptId = (await json<QuizState>(started)).attempt!.id;
    const submitted = await a.request(`${server.base}/api/quizzes/${QUIZ}/attempts/${attemptId}/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(submitted.status).toBe(200);
    const anonymousSession = a.cookie(server.base, 'irlab_session')!;
    const anonymousId = (await json<{ id: string }>(await a.request(`${server.base}/api/me`))).id;
    expect(await json(await a.request(`${server.base}/api/account`))).toEqual({ offered: true, signedIn: false });

    // Browser A signs in as Ada: back where it started, with a new session for the account.
    const callback = await toCallback(a, 'ada', `/quizzes/${QUIZ}`);
    const landed = await a.request(callback);
    expect(landed.status, await landed.clone().text()).toBe(303);
    expect(landed.headers.get('location')).toBe(`/quizzes/${QUIZ}`);
    expect(a.cookie(server.base, 'irlab_session')).not.toBe(anonymousSession);
    expect(await json(await a.request(`${server.base}/api/account`))).toEqual({ offered: true, signedIn: true, name: 'Ada Lovelace', roles: [] });
    const mine = await json<QuizState>(await a.request(`${server.base}/api/quizzes/${QUIZ}`));
    expect(mine).toMatchObject({ attemptsUsed: 1, attempt: { id: attemptId } });
    // The anonymous session ended with the sign-in.
    const stale = new CookieBrowser();
    stale.setCookie(server.base, 'irlab_session', anonymousSession);
    expect(await json(await stale.request(`${server.base}/api/me`))).toEqual({});

    // The same callback again: refused with a page, in the browser that used it and in one that kept its state cookie.
    const replayed = await a.request(callback);
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toMatch(/Sign-in refused[\s\S]*does not belong to a sign-in started in this browser/);
    const thief = new CookieBrowser();
    thief.setCookie(server.base, 'irlab_oidc_state', new URL(callback).searchParams.get('state')!);
    const stolen = await thief.request(callback);
    expect(stolen.status).toBe(400);
    expect(await stolen.text()).toMatch(/used already or took longer than ten minutes/);
    // A forged state (cookie and query agree, the server never issued it), a missing cookie, a provider's refusal.
    const forger = new CookieBrowser();
    forger.setCookie(server.base, 'irlab_oidc_state', 'forged-state');
    expect((await forger.request(`${server.base}/auth/callback?code=made-up&state=forged-state`)).status).toBe(400);
    expect((await new CookieBrowser().request(`${server.base}/auth/callback?code=made-up&state=x`)).status).toBe(400);
    const refusedByProvider = await forger.request(`${server.base}/auth/callback?error=access_denied&error_description=no+thanks&state=forged-state`);
    expect(refusedByProvider.status).toBe(400);
    expect(await refusedByProvider.text()).toMatch(/The sign-in provider refused: access_denied \(no thanks\)/);
    // A real code with the wrong browser's PKCE: start a sign-in in B, finish it with A's state cookie swapped in.
    const b = new CookieBrowser();
    const bCallback = await toCallback(b, 'ada', '/');
    const other = await toCallback(new CookieBrowser(), 'ada', '/');
    b.setCookie(server.base, 'irlab_oidc_state', new URL(other).searchParams.get('state')!);
    const mixed = await b.request(`${server.base}/auth/callback?${new URLSearchParams({ code: new URL(bCallback).searchParams.get('code')!, state: new URL(other).searchParams.get('state')!, iss: provider.issuer })}`);
    expect(mixed.status).toBe(400);
    expect(await mixed.text()).toMatch(/could not be verified/);

    // Browser B, a fresh start as the same person: the account's attempt is there.
    const c = new CookieBrowser();
    const cLanded = await c.request(await toCallback(c, 'ada', '//evil.example/'));
    expect(cLanded.status).toBe(303);
    expect(cLanded.headers.get('location')).toBe('/');
    expect(await json<QuizState>(await c.request(`${server.base}/api/quizzes/${QUIZ}`))).toMatchObject({ attemptsUsed: 1, attempt: { id: attemptId } });
    const cId = (await json<{ id: string }>(await c.request(`${server.base}/api/me`))).id;
    expect(cId).toBe(anonymousId);

    // Sign-out: refused cross-site (nothing changes), done from this site.
    const crossSite = await c.request(`${server.base}/auth/sign-out`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(crossSite.status).toBe(403);
    expect(await json(await c.request(`${server.base}/api/account`))).toMatchObject({ signedIn: true });
    const signedOut = await c.request(`${server.base}/auth/sign-out`, { method: 'POST', headers: { origin: server.base, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(signedOut.status).toBe(303);
    expect(await json(await c.request(`${server.base}/api/account`))).toEqual({ offered: true, signedIn: false });
    // Browser A is still signed in: sign-out ends one browser's session.
    expect(await json(await a.request(`${server.base}/api/account`))).toMatchObject({ signedIn: true });

    // The client secret is in no page and no line the server printed.
    for (const page of ['/account', '/auth/sign-in', '/auth/callback?state=x']) expect(await (await a.request(`${server.base}${page}`)).text()).not.toContain(CLIENT_SECRET);
    expect(server.output.join('\n')).not.toContain(CLIENT_SECRET);
  }, 180_000);
});

describe('sign-in not configured, or its provider down, on the real server', () => {
  it('without IRLAB_OIDC_*: nothing offered, and /auth/sign-in says so (404, no error)', async () => {
    const plain = await startRealServer();
    try {
      const browser = new CookieBrowser();
      expect(await json(await browser.request(`${plain.base}/api/account`))).toEqual({ offered: false, signedIn: false });
      const start = await browser.request(`${plain.base}/auth/sign-in`);
      expect(start.status).toBe(404);
      expect(await start.text()).toContain('Sign-in is not set up on this server');
      expect(await (await browser.request(`${plain.base}/account`)).text()).toContain('This server offers no sign-in');
      expect((await browser.request(`${plain.base}/auth/callback?code=x&state=y`)).status).toBe(400);
    } finally {
      await plain.stop();
    }
  }, 90_000);

  it('a provider nobody answers for: the sign-in page says it could not be reached (503), the secret nowhere', async () => {
    const down = await startRealServer({ IRLAB_OIDC_ISSUER: `http://127.0.0.1:${await freePort()}`, IRLAB_OIDC_CLIENT_ID: CLIENT_ID, IRLAB_OIDC_CLIENT_SECRET: CLIENT_SECRET });
    try {
      const start = await new CookieBrowser().request(`${down.base}/auth/sign-in`);
      expect(start.status).toBe(503);
      const page = await start.text();
      expect(page).toMatch(/Sign-in is not possible right now: the sign-in provider http:\/\/127\.0\.0\.1:\d+ could not be reached/);
      expect(page).not.toContain(CLIENT_SECRET);
      expect(down.output.join('\n')).not.toContain(CLIENT_SECRET);
    } finally {
      await down.stop();
    }
  }, 90_000);
});
