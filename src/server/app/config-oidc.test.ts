import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const SECRET = 'very-secret-value-9f8e7d';
const problemOf = (env: Record<string, string>) => {
  try {
    loadConfig(env, '/srv/irlab');
  } catch (error) {
    if (error instanceof ConfigError) return error;
  }
  throw new Error('no ConfigError');
};

describe('OpenID Connect settings', () => {
  it('unset: no sign-in; set: issuer, client, secret and scopes (openid always among them)', () => {
    expect(loadConfig({}, '/srv/irlab').oidc).toBeUndefined();
    expect(loadConfig({ IRLAB_OIDC_ISSUER: 'https://kc.example.org/realms/school', IRLAB_OIDC_CLIENT_ID: 'irlab', IRLAB_OIDC_CLIENT_SECRET: SECRET, IRLAB_OIDC_SCOPES: 'email profile' }, '/srv/irlab').oidc).toEqual({
      issuer: 'https://kc.example.org/realms/school',
      clientId: 'irlab',
      clientSecret: SECRET,
      scopes: 'email profile openid',
    });
    expect(loadConfig({ IRLAB_OIDC_ISSUER: 'http://localhost:9000', IRLAB_OIDC_CLIENT_ID: 'irlab' }, '/srv/irlab').oidc).toMatchObject({ clientSecret: undefined, scopes: 'openid email profile' });
  });

  it('refuses half a configuration and a bad issuer, and never prints the secret', () => {
    expect(problemOf({ IRLAB_OIDC_ISSUER: 'https://idp.example' }).problems).toEqual([expect.objectContaining({ variable: 'IRLAB_OIDC_CLIENT_ID' })]);
    const secretOnly = problemOf({ IRLAB_OIDC_CLIENT_SECRET: SECRET });
    expect(secretOnly.problems).toEqual([expect.objectContaining({ variable: 'IRLAB_OIDC_ISSUER' })]);
    expect(secretOnly.message).not.toContain(SECRET);
    const bad = problemOf({ IRLAB_OIDC_ISSUER: 'ftp://idp.example', IRLAB_OIDC_CLIENT_ID: 'x', IRLAB_OIDC_CLIENT_SECRET: SECRET });
    expect(bad.problems).toEqual([expect.objectContaining({ variable: 'IRLAB_OIDC_ISSUER', message: expect.stringMatching(/is not an http\(s\) URL/) })]);
    expect(bad.message).not.toContain(SECRET);
  });
});
