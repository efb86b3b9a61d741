import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openSqliteStore, type SqlStore } from '../store/index.ts';
import { ltiService } from './lti-service.ts';
import { createLtiRoutes } from './routes.ts';
import { toolKeyFrom } from './tool-key.ts';

const platform = {
  name: 'LMS',
  issuer: 'https://lms.example.edu',
  clientId: 'client-1',
  deploymentIds: ['d1'],
  authLoginUrl: 'https://lms.example.edu/auth?tenant=4',
  jwksUrl: 'https://lms.example.edu/jwks',
  tokenUrl: 'https://lms.example.edu/token',
};

let server: http.Server;
let base: string;
let store: SqlStore;

beforeAll(async () => {
  store = await openSqliteStore(':memory:', allMigrations);
  const learners = learnerService({ store });
  const lti = ltiService({
    store,
    platforms: [platform],
    key: toolKeyFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    publicUrl: 'https://irlab.example.org',
    learners,
    identities: identityService({ store }),
    activities: async () => [{ kind: 'lab', slug: 'l18', title: 'L18' }],
  });
  const routes = createLtiRoutes(lti, learners, { secureCookies: true, now: () => 0 });
  server = http.createServer((req, res) => void routes.handle(req, res).then((handled) => handled || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const login = (query: Record<string, string>) => fetch(`${base}/lti/login?${new URLSearchParams(query)}`, { redirect: 'manual' });

describe('the LTI routes', () => {
  it('login: redirects to the platform with the OIDC parameters, a SameSite=None; Secure state cookie over https', async () => {
    const response = await login({ iss: platform.issuer, login_hint: 'u1', lti_message_hint: 'm1', client_id: 'client-1', target_link_uri: 'https://irlab.example.org/labs/l18' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('https://lms.example.edu/auth');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      tenant: '4',
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: 'client-1',
      redirect_uri: 'https://irlab.example.org/lti/launch',
      login_hint: 'u1',
      lti_message_hint: 'm1',
    });
    const state = location.searchParams.get('state')!;
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`^irlab_lti_[0-9a-f]{16}=${state}; Max-Age=300; Path=/lti/; HttpOnly; SameSite=None; Secure$`));
    // Only the state's hash is stored.
    expect(JSON.stringify(await store.all('SELECT * FROM lti_logins'))).not.toContain(state);
  });

  it('login: an unregistered platform or client, a missing login_hint, a deployment not registered: a clear 4xx', async () => {
    const unknown = await login({ iss: 'https://evil.example', login_hint: 'u' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/is not registered with this irlab server/);
    expect((await login({ iss: platform.issuer, login_hint: 'u', client_id: 'other' })).status).toBe(400);
    expect((await login({ iss: platform.issuer })).status).toBe(400);
    expect((await login({ iss: platform.issuer, login_hint: 'u', lti_deployment_id: 'd9' })).status).toBe(403);
  });

  it('launch: a body that is no form, and a form without state, are 400 pages; an unknown route a 404 page', async () => {
    const json = await fetch(`${base}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: expect.stringMatching(/not a form post/), fix: expect.any(String) });
    const empty = await fetch(`${base}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id_token=x' });
    expect(empty.status).toBe(400);
    expect((await fetch(`${base}/lti/nothing`)).status).toBe(404);
  });

  it('login: an address beginning more than 300 logins a minute is refused (each keeps a row until it expires)', async () => {
    let status = 0;
    for (let i = 0; i < 300 && status !== 429; i++) status = (await login({ iss: platform.issuer, login_hint: `u${i}` })).status;
    const refused = await login({ iss: platform.issuer, login_hint: 'one-more' });
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/too many LTI logins/);
  });
});
