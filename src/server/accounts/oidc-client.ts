/**
 * Sign-in with OpenID Connect through `openid-client`: the authorization code flow with PKCE,
 * state and nonce. `begin` remembers what the callback must check (pending-sign-ins.ts) and gives
 * the provider's URL; `finish` takes the callback's URL, checks the browser's state cookie against
 * it, takes the pending sign-in once, and lets openid-client validate the code exchange and the ID
 * token (issuer, audience, signature, nonce, expiry). Every refusal is a SignInError with a status
 * below 500 for what a browser sent, and words for the page.
 */
import { StatusError } from '../../lib/error-status.ts';
import { timingSafeEqual, createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { Identity } from '../learners/identities.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { pendingSignIns } from './pending-sign-ins.ts';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Unset: a public client (PKCE only). Never logged, never shown. */
  clientSecret: string | undefined;
  scopes: string;
}

export class SignInError extends StatusError {
  constructor(status: number, message: string) {
    super(message, status);
    this.name = 'SignInError';
  }
}

export interface SignedIn {
  identity: Identity & { kind: 'oidc' };
  /** A name to show, from the ID token's claims (name, preferred_username, given_name). */
  displayName: string | undefined;
  returnTo: string;
}

const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export function oidcClient({ settings, store, redirectUri, clock }: { settings: OidcSettings; store: SqlStore; redirectUri: string; clock?: () => Date }) {
  const pending = pendingSignIns({ store, ...(clock ? { clock } : {}) });
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = () =>
    (discovered ??= client
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.clientSecret,
        settings.clientSecret ? client.ClientSecretPost(settings.clientSecret) : client.None(),
        // openid-client speaks https only; an http issuer (a provider on localhost) is allowed explicitly.
        new URL(settings.issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests], timeout: 15 } : { timeout: 15 },
      )
      .catch((error: unknown) => {
        discovered = undefined;
        throw new SignInError(503, `the sign-in provider ${settings.issuer} could not be reached (${error instanceof Error ? error.message : String(error)}); try again in a moment, or tell the operator`);
      }));

  return {
    /** The provider's authorization URL and the state the browser must bring back (its cookie). */
    async begin(returnTo: string): Promise<{ url: URL; state: string }> {
      const config = await configuration();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      if (!(await pending.put(state, { codeVerifier, nonce, returnTo }))) throw new SignInError(429, 'too many sign-ins are under way on this server right now; try again in a few minutes');
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url, state };
    },

    /** Validates the provider's callback (`callbackUrl`: the public URL with its query). */
    async finish(callbackUrl: URL, stateCookie: string | undefined): Promise<SignedIn> {
      const params = callbackUrl.searchParams;
      const state = params.get('state') ?? '';
      if (params.get('error')) {
        const described = (params.get('error_description') ?? '').slice(0, 200);
        throw new SignInError(400, `the sign-in provider refused: ${params.get('error')!.slice(0, 80)}${described ? ` (${described})` : ''}. Start again with Sign in`);
      }
      if (!stateCookie || !state || !sameSecret(stateCookie, state)) {
        throw new SignInError(400, 'this sign-in answer does not belong to a sign-in started in this browser (it was used already, forged, or started elsewhere). Start again with Sign in');
      }
      const started = await pending.take(state);
      if (!started) throw new SignInError(400, 'this sign-in was used already or took longer than ten minutes. Start again with Sign in');
      const config = await configuration();
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: started.codeVerifier, expectedState: state, expectedNonce: started.nonce, idTokenExpected: true });
      } catch (error) {
        // openid-client's messages name the check that failed, never a secret.
        throw new SignInError(400, `the sign-in could not be verified: ${error instanceof Error ? error.message : String(error)}. Start again with Sign in`);
      }
      const claims = tokens.claims();
      if (!claims?.sub) throw new SignInError(400, 'the sign-in provider sent no subject (sub) for you. Start again with Sign in, or tell the operator');
      let profile: Record<string, unknown> = claims;
      // Providers that keep profile claims out of the ID token (oidc-provider by default) give them at userinfo.
      if ((!claims.email || !claims.name) && config.serverMetadata().userinfo_endpoint) {
        profile = { ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub).catch(() => ({}))), ...claims };
      }
      const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, 60) : undefined);
      const email = text(profile.email_verified === false ? undefined : profile.email);
      return {
        identity: { kind: 'oidc', issuer: claims.iss, subject: claims.sub, ...(email ? { email } : {}) },
        displayName: text(profile.name) ?? text(profile.preferred_username) ?? text(profile.given_name),
        returnTo: started.returnTo,
      };
    },
  };
}

export type OidcClient = ReturnType<typeof oidcClient>;
