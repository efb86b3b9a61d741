import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
import { beforeAll, describe, expect, it } from 'vitest';
import { activityOf, CLAIM, launchClaims, LtiError, verifyIdToken } from './claims.ts';
import type { Platform } from './platforms.ts';

const platform: Platform = {
  name: 'Test LMS',
  issuer: 'https://lms.example.edu',
  clientId: 'client-1',
  deploymentIds: ['dep-1'],
  authLoginUrl: 'https://lms.example.edu/auth',
  jwksUrl: 'https://lms.example.edu/jwks',
  tokenUrl: 'https://lms.example.edu/token',
};
const publicUrl = 'https://irlab.example.org';

const launch = (extra: Record<string, unknown> = {}): JWTPayload => ({
  iss: platform.issuer,
  aud: platform.clientId,
  sub: 'user-7',
  nonce: 'n',
  given_name: 'Ada',
  family_name: 'Lovelace',
  [CLAIM.version]: '1.3.0',
  [CLAIM.messageType]: 'LtiResourceLinkRequest',
  [CLAIM.deploymentId]: 'dep-1',
  [CLAIM.resourceLink]: { id: 'rl-1' },
  [CLAIM.targetLinkUri]: `${publicUrl}/quizzes/l18`,
  ...extra,
});

function refusal(run: () => unknown): LtiError {
  try {
    run();
  } catch (error) {
    if (error instanceof LtiError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('launchClaims', () => {
  it('reads a resource link launch: user, name, activity, AGS endpoint', () => {
    const claims = launchClaims(launch({ [CLAIM.ags]: { scope: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'], lineitem: 'https://lms.example.edu/li/1' } }), platform, publicUrl);
    expect(claims).toMatchObject({ messageType: 'LtiResourceLinkRequest', subject: 'user-7', displayName: 'Ada Lovelace', activity: { kind: 'quiz', slug: 'l18' }, ags: { lineitem: 'https://lms.example.edu/li/1' } });
  });

  it('refuses a deployment that is not registered, naming it and where to add it', () => {
    const error = refusal(() => launchClaims(launch({ [CLAIM.deploymentId]: 'dep-9' }), platform, publicUrl));
    expect(error.status).toBe(403);
    expect(error.message).toContain('"dep-9"');
    expect(error.fix).toContain('IRLAB_LTI_PLATFORMS');
  });

  it('refuses another LTI version, an unknown message type, a launch without sub or resource link', () => {
    expect(refusal(() => launchClaims(launch({ [CLAIM.version]: '1.1' }), platform, publicUrl)).message).toMatch(/not LTI 1\.3\.0/);
    expect(refusal(() => launchClaims(launch({ [CLAIM.messageType]: 'LtiSubmissionReviewRequest' }), platform, publicUrl)).message).toMatch(/does not handle/);
    expect(refusal(() => launchClaims(launch({ sub: undefined }), platform, publicUrl)).message).toMatch(/no user/);
    expect(refusal(() => launchClaims(launch({ [CLAIM.resourceLink]: undefined }), platform, publicUrl)).message).toMatch(/resource_link/);
  });

  it('with several audiences, requires azp to be our client id', () => {
    expect(refusal(() => launchClaims(launch({ aud: ['client-1', 'other'] }), platform, publicUrl)).message).toMatch(/azp/);
    expect(refusal(() => launchClaims(launch({ aud: 'client-1', azp: 'other' }), platform, publicUrl)).message).toMatch(/azp/);
    expect(launchClaims(launch({ aud: ['client-1', 'other'], azp: 'client-1' }), platform, publicUrl).subject).toBe('user-7');
  });

  it('refuses a launch naming no irlab activity (another origin is no redirect target)', () => {
    const error = refusal(() => launchClaims(launch({ [CLAIM.targetLinkUri]: 'https://evil.example.com/quizzes/l18' }), platform, publicUrl));
    expect(error.status).toBe(404);
  });

  it('reads a Deep Linking request; refuses one without a return URL or not accepting resource links', () => {
    const settings = { deep_link_return_url: 'https://lms.example.edu/dl', accept_types: ['ltiResourceLink'], accept_multiple: true, data: 'opaque' };
    const dl = launch({ [CLAIM.messageType]: 'LtiDeepLinkingRequest', [CLAIM.resourceLink]: undefined, [CLAIM.deepLinkingSettings]: settings });
    expect(launchClaims(dl, platform, publicUrl).deepLinking).toEqual({ returnUrl: 'https://lms.example.edu/dl', data: 'opaque', acceptMultiple: true, acceptsResourceLinks: true });
    expect(refusal(() => launchClaims({ ...dl, [CLAIM.deepLinkingSettings]: { ...settings, deep_link_return_url: 'javascript:alert(1)' } }, platform, publicUrl)).message).toMatch(/deep_link_return_url/);
    expect(refusal(() => launchClaims({ ...dl, [CLAIM.deepLinkingSettings]: { ...settings, accept_types: ['file'] } }, platform, publicUrl)).message).toMatch(/accept_types/);
  });
});

describe('activityOf', () => {
  it('prefers the custom activity, else a target_link_uri on our origin', () => {
    expect(activityOf({ activity: 'lab:l18' }, 'https://irlab.example.org/quizzes/x', publicUrl)).toEqual({ kind: 'lab', slug: 'l18' });
    expect(activityOf(undefined, 'https://irlab.example.org/labs/leaked-ci-token/', publicUrl)).toEqual({ kind: 'lab', slug: 'leaked-ci-token' });
    expect(activityOf({ activity: 'lab:../etc' }, undefined, publicUrl)).toBeUndefined();
    expect(activityOf(undefined, 'https://irlab.example.org/labs/l18/../../api', publicUrl)).toBeUndefined();
    expect(activityOf(undefined, 'https://irlab.example.org.evil.com/labs/l18', publicUrl)).toBeUndefined();
    expect(activityOf(undefined, 'not a url', publicUrl)).toBeUndefined();
  });
});

describe('verifyIdToken', () => {
  let keys: ReturnType<typeof createLocalJWKSet>;
  let sign: (claims: JWTPayload, key?: PrivateKey) => Promise<string>;
  let other: PrivateKey;
  const now = new Date('2026-12-07T12:00:00Z');
  const t = Math.floor(now.getTime() / 1000);

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    other = (await generateKeyPair('RS256')).privateKey;
    keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] });
    sign = (claims, key = pair.privateKey) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(key);
  });

  const base = () => ({ iss: platform.issuer, aud: platform.clientId, sub: 'u', nonce: 'n', iat: t, exp: t + 60 });
  const refused = async (token: Promise<string>) => {
    const error = await verifyIdToken(await token, platform, keys, now).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LtiError);
    return error as LtiError;
  };

  it('accepts a token signed by the platform for us', async () => {
    expect((await verifyIdToken(await sign(base()), platform, keys, now)).sub).toBe('u');
  });

  it('a platform key set that cannot be fetched is a refusal naming its URL, not a server error', async () => {
    const unreachable = createRemoteJWKSet(new URL('http://127.0.0.1:9/jwks'), { timeoutDuration: 2000 });
    const error = await verifyIdToken(await sign(base()), { ...platform, jwksUrl: 'http://127.0.0.1:9/jwks' }, unreachable, now).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LtiError);
    expect((error as LtiError).message).toMatch(/could not be fetched from http:\/\/127\.0\.0\.1:9\/jwks/);
  });

  it('refuses a forged signature, another audience, another issuer, an expired token, a token without nonce', async () => {
    expect((await refused(sign(base(), other))).message).toMatch(/not signed by the platform's key/);
    expect((await refused(sign({ ...base(), aud: 'someone-else' }))).fix).toMatch(/client ID client-1/);
    expect((await refused(sign({ ...base(), iss: 'https://evil.example' }))).message).toMatch(/its iss claim does not match/);
    expect((await refused(sign({ ...base(), iat: t - 7200, exp: t - 3600 }))).message).toMatch(/expired/);
    const { nonce: _nonce, ...withoutNonce } = base();
    expect((await refused(sign(withoutNonce))).message).toMatch(/its nonce claim/);
  });
});
