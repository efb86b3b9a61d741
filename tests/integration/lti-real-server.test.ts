// irlab as an LTI 1.3 tool, on the real server process (serve.ts over the built site), launched
// from our platform simulator (fixtures/lti-platform.ts: Moodle's GET login, Canvas's POST login,
// signed id_tokens, a token endpoint checking our client assertion, AGS and Deep Linking return
// endpoints). Issue #20: a launch lands a signed-in learner on the lab or quiz; finishing the quiz
// posts the score to the simulator (also after the platform was down); replayed, forged,
// mis-addressed, unregistered and expired launches are refused with a clear error.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from './hostile/real-server.ts';
import { startPlatformSimulator, type LaunchOverrides, type LaunchSpec, type PlatformSimulator } from './fixtures/lti-platform.ts';

let server: RealServer;
let sim: PlatformSimulator;
let dir: string;

/** A browser's cookies for irlab (one origin is all these tests need). */
class Browser {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair!.trim().split('=');
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    // Browsers send Origin with a POST (Astro refuses cross-site form posts to its endpoints).
    const origin = init.method === 'POST' && url.startsWith(server.base) && url.includes('/api/') ? { origin: server.base } : {};
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...origin, cookie: this.header() }, signal: AbortSignal.timeout(30_000) });
    this.take(response);
    return response;
  }
}

const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

/** The platform starts a launch; the browser follows the login, the auth request and the form_post up to irlab's answer. */
async function launch(browser: Browser, spec: LaunchSpec, overrides?: LaunchOverrides): Promise<{ response: Response; form: URLSearchParams }> {
  const start = sim.initiateLogin(spec);
  const login = await browser.fetch(start.url, start.method === 'POST' ? { method: 'POST', body: start.body!, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {});
  expect(login.status, await login.clone().text()).toBe(302);
  sim.launchOverrides = overrides;
  const auth = await fetch(login.headers.get('location')!, { signal: AbortSignal.timeout(30_000) });
  const html = await auth.text();
  expect(auth.status, html).toBe(200);
  const form = new URLSearchParams({ id_token: field(html, 'id_token')!, state: field(html, 'state')! });
  const response = await postLaunch(browser, form);
  return { response, form };
}

const postLaunch = (browser: Browser, form: URLSearchParams, accept = 'text/html') =>
  browser.fetch(`${server.base}/lti/launch`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded', accept } });

const learnerSpec = (over: Partial<LaunchSpec> = {}): LaunchSpec => ({
  style: 'moodle',
  messageType: 'LtiResourceLinkRequest',
  targetLinkUri: `${server.base}/quizzes/l18`,
  user: { sub: 'moodle-user-31', name: 'Grace Hopper', email: 'grace@example.edu' },
  lineitem: `${sim.lineitemsUrl}/17/lineitem`,
  ...over,
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}\n${server.output.slice(-20).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  sim = await startPlatformSimulator();
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-lti-'));
  const platformsFile = path.join(dir, 'platforms.yaml');
  await writeFile(
    platformsFile,
    JSON.stringify({ platforms: [{ name: 'Simulated Moodle', issuer: sim.issuer, clientId: sim.clientId, deploymentIds: [sim.deploymentId], authLoginUrl: sim.authLoginUrl, jwksUrl: sim.jwksUrl, tokenUrl: sim.tokenUrl }] }),
  );
  server = await startRealServer({ IRLAB_LTI_PLATFORMS: platformsFile });
  sim.connectTool(server.base);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('LTI 1.3 launches from the platform simulator', () => {
  it('serves its public key at /lti/jwks, the private half kept 0600 in the data dir', async () => {
    const jwks = (await (await fetch(`${server.base}/lti/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) })]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect((await stat(path.join(server.dataDir, 'lti', 'tool-key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('a quiz launched from Moodle lands the learner signed in on it; submitting posts the score to AGS, also after the platform was down', async () => {
    const browser = new Browser();
    const { response } = await launch(browser, learnerSpec());
    expect(response.status, await response.clone().text()).toBe(303);
    expect(response.headers.get('location')).toBe('/quizzes/l18');
    const auth = sim.authRequests.at(-1)!;
    expect(Object.fromEntries(auth)).toMatchObject({ response_type: 'id_token', response_mode: 'form_post', scope: 'openid', prompt: 'none', redirect_uri: `${server.base}/lti/launch` });

    const me = (await (await browser.fetch(`${server.base}/api/me`)).json()) as { id: string; displayName: string };
    expect(me).toMatchObject({ id: expect.stringMatching(/^lrn_/), displayName: 'Grace Hopper' });
    expect((await browser.fetch(`${server.base}/quizzes/l18`)).status).toBe(200);

    // A second launch of the same LMS user is the same learner.
    const again = new Browser();
    expect((await launch(again, learnerSpec())).response.status).toBe(303);
    expect(((await (await again.fetch(`${server.base}/api/me`)).json()) as { id: string }).id).toBe(me.id);

    // One right answer, then submit while the platform is down.
    const started = (await (await browser.fetch(`${server.base}/api/quizzes/l18/attempts`, { method: 'POST' })).json()) as {
      attempt: { id: string; questions: Array<{ id: string; prompt: string; options?: Array<{ id: string; text: string }> }> };
    };
    const first = started.attempt.questions.find((q) => q.prompt.startsWith('What is the first step when responding to a compromised pod'))!;
    const contain = first.options!.find((o) => o.text.startsWith('Isolate it but keep it running'))!;
    const answered = await browser.fetch(`${server.base}/api/quizzes/l18/attempts/${started.attempt.id}/answers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ questionId: first.id, answer: contain.id }),
    });
    expect(answered.status).toBe(200);
    sim.down = true;
    const submitted = await browser.fetch(`${server.base}/api/quizzes/l18/attempts/${started.attempt.id}/submit`, { method: 'POST' });
    const state = (await submitted.json()) as { attempt: { score: { earned: number; max: number } } };
    expect(submitted.status).toBe(200);
    expect(state.attempt.score.earned).toBeGreaterThan(0);
    await until('the failed first post', () => server.output.find((line) => /posting a score to .* failed \(try 1/.test(line)));
    expect(sim.scores).toEqual([]);

    sim.down = false;
    const score = await until('the score at the AGS endpoint', () => sim.scores[0], 60_000);
    expect(score.lineitem).toBe(`${sim.lineitemsUrl}/17/lineitem`);
    expect(score.contentType).toBe('application/vnd.ims.lis.v1.score+json');
    expect(score.body).toEqual({
      userId: 'moodle-user-31',
      scoreGiven: state.attempt.score.earned,
      scoreMaximum: state.attempt.score.max,
      activityProgress: 'Completed',
      gradingProgress: 'FullyGraded',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(sim.tokenRequests[0]).toMatchObject({ scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/score', assertion: { aud: sim.tokenUrl, iss: sim.clientId } });
    // Delivered once: no duplicate once the outbox has drained again.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(sim.scores).toHaveLength(1);
  }, 180_000);

  it('a lab launched from Canvas (a POST login, azp) lands the learner on the lab page', async () => {
    const browser = new Browser();
    const { response } = await launch(browser, learnerSpec({ style: 'canvas', targetLinkUri: `${server.base}/labs/l18`, user: { sub: 'canvas-88', name: 'Alan Turing', email: 'alan@example.edu' } }));
    expect(response.status, await response.clone().text()).toBe(303);
    expect(response.headers.get('location')).toBe('/labs/l18');
    expect(((await (await browser.fetch(`${server.base}/api/me`)).json()) as { displayName: string }).displayName).toBe('Alan Turing');
  }, 60_000);

  it('refuses a replayed launch (same state and nonce), naming why', async () => {
    const browser = new Browser();
    const { response, form } = await launch(browser, learnerSpec());
    expect(response.status).toBe(303);
    const replay = await postLaunch(browser, form, 'application/json');
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toMatch(/already used \(a replayed launch is refused\)/);

    // The captured id_token under a fresh login of the same browser: its nonce is not that login's.
    const start = sim.initiateLogin(learnerSpec());
    const login = await browser.fetch(start.url);
    const fresh = await (await fetch(login.headers.get('location')!)).text();
    const reused = await postLaunch(browser, new URLSearchParams({ id_token: form.get('id_token')!, state: field(fresh, 'state')! }), 'application/json');
    expect(reused.status).toBe(401);
    expect(((await reused.json()) as { error: string }).error).toMatch(/nonce is not the one irlab sent for this login/);
  }, 60_000);

  it('refuses a forged launch (signed by another key), a wrong audience, an unknown deployment, an expired token: a clear page, no token echoed', async () => {
    const forger = (await generateKeyPair('RS256')).privateKey;
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, LaunchOverrides, number, RegExp]> = [
      ['forged', { signWith: forger }, 401, /not signed by the platform's key/],
      ['wrong audience', { claims: { aud: 'another-tool' } }, 401, /its aud claim does not match/],
      ['unknown deployment', { claims: { 'https://purl.imsglobal.org/spec/lti/claim/deployment_id': 'deployment-9' } }, 403, /deployment "deployment-9", which is not registered/],
      ['expired', { claims: { iat: now - 7200, exp: now - 3600 } }, 401, /has expired/],
    ];
    for (const [name, overrides, status, message] of cases) {
      const { response, form } = await launch(new Browser(), learnerSpec(), overrides);
      // The page escapes what it quotes; read it as a person would.
      const html = (await response.text()).replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
      expect(response.status, name).toBe(status);
      expect(response.headers.get('content-type'), name).toMatch(/text\/html/);
      expect(html, name).toMatch(message);
      expect(html, name).toContain('What to check');
      expect(html, name).not.toContain(form.get('id_token')!.split('.')[1]!);
      expect(response.headers.getSetCookie().some((c) => c.startsWith('irlab_session=')), name).toBe(false);
    }
  }, 120_000);

  it('refuses a launch whose browser lost the login cookie, and a login from an unregistered platform', async () => {
    const browser = new Browser();
    const start = sim.initiateLogin(learnerSpec());
    const login = await browser.fetch(start.url);
    const html = await (await fetch(login.headers.get('location')!)).text();
    browser.cookies.clear();
    const refused = await postLaunch(browser, new URLSearchParams({ id_token: field(html, 'id_token')!, state: field(html, 'state')! }), 'application/json');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { fix: string }).fix).toMatch(/SameSite=None; Secure/);

    const unknown = await fetch(`${server.base}/lti/login?iss=https%3A%2F%2Flms.evil.example&login_hint=x&target_link_uri=x`, { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/is not registered with this irlab server/);
  }, 60_000);

  it('Deep Linking: the instructor picks in an accessible page; the signed response reaches the platform with the data echoed', async () => {
    const browser = new Browser();
    const { response } = await launch(browser, { style: 'canvas', messageType: 'LtiDeepLinkingRequest', targetLinkUri: `${server.base}/lti/launch`, user: { sub: 'teacher-1', name: 'T', email: 't@example.edu' } });
    const picker = await response.text();
    expect(response.status, picker).toBe(200);
    expect(picker).toMatch(/<legend>Labs<\/legend>[\s\S]*value="lab:l18"[\s\S]*<legend>Quizzes<\/legend>[\s\S]*value="quiz:l18"/);
    const chosen = await browser.fetch(`${server.base}/lti/deep-link`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([['pick', field(picker, 'pick')!], ['activity', 'lab:l18'], ['activity', 'quiz:l18']]),
    });
    const autopost = await chosen.text();
    expect(chosen.status, autopost).toBe(200);
    expect(chosen.headers.get('content-security-policy')).toContain(`form-action ${sim.base}`);
    expect(autopost).toContain(`action="${sim.deepLinkReturnUrl}"`);
    const returned = await fetch(sim.deepLinkReturnUrl, { method: 'POST', body: new URLSearchParams({ JWT: field(autopost, 'JWT')! }) });
    expect(returned.status, sim.errors.join('\n')).toBe(200);
    const payload = sim.deepLinkResponses[0]!;
    expect(payload['https://purl.imsglobal.org/spec/lti/claim/message_type']).toBe('LtiDeepLinkingResponse');
    expect(payload['https://purl.imsglobal.org/spec/lti-dl/claim/data']).toBe('sim-opaque-data-7');
    expect(payload['https://purl.imsglobal.org/spec/lti/claim/deployment_id']).toBe(sim.deploymentId);
    expect(payload['https://purl.imsglobal.org/spec/lti-dl/claim/content_items']).toEqual([
      expect.objectContaining({ type: 'ltiResourceLink', url: `${server.base}/labs/l18`, custom: { activity: 'lab:l18' }, lineItem: expect.objectContaining({ scoreMaximum: 100 }) }),
      expect.objectContaining({ type: 'ltiResourceLink', url: `${server.base}/quizzes/l18`, custom: { activity: 'quiz:l18' } }),
    ]);
    // The pick is one use.
    const again = await browser.fetch(`${server.base}/lti/deep-link`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams([['pick', field(picker, 'pick')!], ['activity', 'lab:l18']]),
    });
    expect(again.status).toBe(401);
  }, 60_000);
});
