/**
 * irlab as an LTI 1.3 tool: OIDC login initiation (state and nonce kept server-side, one use,
 * expiring, bound to the browser by a short-lived cookie), the launch (the platform's id_token
 * verified, then the learner found or linked by their LTI identity and signed in), Deep Linking
 * (the instructor's pick returned as a JWT signed with irlab's key) and what grade passback needs
 * (the AGS claim remembered per learner and activity). HTTP lives in routes.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { IdentityService } from '../learners/identities.ts';
import type { LearnerService } from '../learners/learners.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { AGS_SCOPE, CLAIM, launchClaims, LtiError, LTI_VERSION, verifyIdToken, type Activity, type LaunchClaims } from './claims.ts';
import { findPlatform, type Platform } from './platforms.ts';
import type { ToolKey } from './tool-key.ts';

/** A login must come back as a launch within this long. */
export const LOGIN_TTL_SECONDS = 300;
/** An instructor has this long to pick in the Deep Linking picker. */
export const PICK_TTL_SECONDS = 1800;

export interface ActivityChoice extends Activity {
  title: string;
}

export interface LtiDeps {
  store: SqlStore;
  platforms: readonly Platform[];
  key: ToolKey;
  publicUrl: string;
  learners: LearnerService;
  identities: IdentityService;
  /** Every lab and quiz this server offers (the picker; a launch must name one of them). */
  activities: () => Promise<ActivityChoice[]>;
  clock?: () => Date;
  /** The platform's keys; by default fetched from its JWKS URL with a timeout and cached. */
  keysOf?: (platform: Platform) => JWTVerifyGetKey;
}

export interface LoginParams {
  iss?: string | undefined;
  login_hint?: string | undefined;
  target_link_uri?: string | undefined;
  lti_message_hint?: string | undefined;
  client_id?: string | undefined;
  lti_deployment_id?: string | undefined;
}

export type LaunchResult =
  | { kind: 'signed-in'; learnerId: string; sessionToken: string; location: string }
  | { kind: 'pick'; pickToken: string; platform: Platform; choices: ActivityChoice[]; acceptMultiple: boolean };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const random = () => randomBytes(32).toString('base64url');
export const stateCookieName = (state: string) => `irlab_lti_${sha256(state).slice(0, 16)}`;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(sha256(a));
  const y = Buffer.from(sha256(b));
  return timingSafeEqual(x, y);
}

export function ltiService(deps: LtiDeps) {
  const { store, platforms, key, publicUrl, learners, identities } = deps;
  const clock = deps.clock ?? (() => new Date());
  const launchUrl = `${publicUrl}/lti/launch`;
  const remoteKeys = new Map<string, JWTVerifyGetKey>();
  const keysOf =
    deps.keysOf ??
    ((platform: Platform) => {
      let keys = remoteKeys.get(platform.jwksUrl);
      if (!keys) {
        keys = createRemoteJWKSet(new URL(platform.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
        remoteKeys.set(platform.jwksUrl, keys);
      }
      return keys;
    });

  const purge = async () => {
    const now = clock().toISOString();
    await store.run('DELETE FROM lti_logins WHERE expires_at <= ?', [now]);
    await store.run('DELETE FROM lti_deep_links WHERE expires_at <= ?', [now]);
  };

  async function existing(activity: Activity): Promise<ActivityChoice> {
    const found = (await deps.activities()).find((a) => a.kind === activity.kind && a.slug === activity.slug);
    if (!found) throw new LtiError(404, `the ${activity.kind} "${activity.slug}" does not exist on this irlab server`, `pick the activity again through Deep Linking, or check the link's URL (${publicUrl}/${activity.kind === 'lab' ? 'labs' : 'quizzes'})`);
    return found;
  }

  /** The learner this LTI user is: known, or the browser's anonymous learner linked, or a new one. */
  async function learnerFor(platform: Platform, claims: LaunchClaims, browserSession: string | undefined): Promise<string> {
    const identity = { kind: 'lti' as const, issuer: platform.issuer, subject: claims.subject, email: claims.email };
    const known = await identities.learnerOf(identity);
    if (known) return known;
    // A browser's anonymous progress joins the LMS user's account on their first launch, as on a
    // first sign-in; a browser already holding someone's identity gets a fresh learner instead.
    const browser = await learners.fromSession(browserSession);
    const learnerId = browser && (await identities.identitiesOf(browser.id)).length === 0 ? browser.id : (await learners.create(claims.displayName)).learner.id;
    if (!(await identities.link(learnerId, identity))) return (await identities.learnerOf(identity))!;
    return learnerId;
  }

  return {
    launchUrl,
    jwks: () => ({ keys: [key.publicJwk] }),

    /** Third-party initiated login: the auth request URL and the cookie binding its state to this browser. */
    async login(params: LoginParams): Promise<{ location: string; cookie: { name: string; value: string; maxAge: number } }> {
      if (!params.iss) throw new LtiError(400, 'the login request has no iss', 'the platform must send its issuer (iss) to the login initiation URL');
      if (!params.login_hint) throw new LtiError(400, 'the login request has no login_hint', 'the platform must send login_hint');
      const platform = findPlatform(platforms, params.iss, params.client_id);
      if (!platform) {
        throw new LtiError(
          400,
          `the platform "${params.iss.slice(0, 200)}"${params.client_id ? ` with client ID "${params.client_id.slice(0, 100)}"` : ''} is not registered with this irlab server`,
          'an operator adds it to the file IRLAB_LTI_PLATFORMS names (issuer, clientId, deploymentIds, authLoginUrl, jwksUrl, tokenUrl) and restarts irlab',
        );
      }
      if (params.lti_deployment_id && !platform.deploymentIds.includes(params.lti_deployment_id)) {
        throw new LtiError(403, `the deployment "${params.lti_deployment_id.slice(0, 80)}" of ${platform.name} is not registered`, `add it to deploymentIds of this platform in the file IRLAB_LTI_PLATFORMS names`);
      }
      await purge();
      const state = random();
      const nonce = random();
      const expires = new Date(clock().getTime() + LOGIN_TTL_SECONDS * 1000).toISOString();
      await store.run('INSERT INTO lti_logins (state_hash, nonce, issuer, client_id, expires_at) VALUES (?, ?, ?, ?, ?)', [sha256(state), nonce, platform.issuer, platform.clientId, expires]);
      const auth = new URL(platform.authLoginUrl);
      const query: Record<string, string> = {
        scope: 'openid',
        response_type: 'id_token',
        response_mode: 'form_post',
        prompt: 'none',
        client_id: platform.clientId,
        redirect_uri: launchUrl,
        login_hint: params.login_hint,
        state,
        nonce,
      };
      if (params.lti_message_hint) query.lti_message_hint = params.lti_message_hint;
      for (const [name, value] of Object.entries(query)) auth.searchParams.set(name, value);
      return { location: auth.href, cookie: { name: stateCookieName(state), value: state, maxAge: LOGIN_TTL_SECONDS } };
    },

    /**
     * The platform's form_post: `state` must be one this server issued to this browser (cookie)
     * and not used yet, the id_token valid for it. Resource links sign the learner in; Deep
     * Linking requests get a picker.
     */
    async launch(form: { id_token?: string | undefined; state?: string | undefined }, cookies: { state: string | undefined; session: string | undefined }): Promise<LaunchResult> {
      if (!form.state || !form.id_token) throw new LtiError(400, 'the launch has no id_token or no state', 'the platform must answer the authentication request with a form_post of id_token and state');
      await purge();
      const stateHash = sha256(form.state);
      // Deleted as it is read: a state (and its nonce) serves one launch, a replay finds nothing.
      const login = await store.get<{ nonce: string; issuer: string; client_id: string; expires_at: string }>('DELETE FROM lti_logins WHERE state_hash = ? RETURNING nonce, issuer, client_id, expires_at', [stateHash]);
      if (!login) throw new LtiError(401, 'this launch\'s state is unknown, expired or already used (a replayed launch is refused)', `launch again from the LMS; a login must come back within ${LOGIN_TTL_SECONDS / 60} minutes`);
      if (!cookies.state || !sameSecret(cookies.state, form.state)) {
        throw new LtiError(
          401,
          'this browser did not send back the cookie irlab set when the login began, so the launch cannot be tied to it',
          'open irlab in a new window (the LMS\'s launch container setting), allow its cookies, and serve irlab over https (IRLAB_PUBLIC_URL): the LMS posts the launch across sites, and browsers send that cookie only with SameSite=None; Secure',
        );
      }
      const platform = findPlatform(platforms, login.issuer, login.client_id);
      if (!platform) throw new LtiError(400, `the platform ${login.issuer} is no longer registered`, 'check the file IRLAB_LTI_PLATFORMS names');
      const unverified = (() => {
        try {
          return decodeJwt(form.id_token);
        } catch {
          throw new LtiError(400, 'the id_token is not a JWT', 'the platform must post an RS256-signed id_token');
        }
      })();
      if (unverified.iss !== platform.issuer) throw new LtiError(401, `the id_token's issuer is not ${platform.name}, which began this login`, 'launch again from the LMS; check the issuer in IRLAB_LTI_PLATFORMS');
      const payload = await verifyIdToken(form.id_token, platform, keysOf(platform), clock());
      if (typeof payload.nonce !== 'string' || !sameSecret(payload.nonce, login.nonce)) {
        throw new LtiError(401, 'the id_token\'s nonce is not the one irlab sent for this login', 'launch again from the LMS; the platform must return the nonce of the authentication request');
      }
      const claims = launchClaims(payload, platform, publicUrl);

      if (claims.messageType === 'LtiDeepLinkingRequest') {
        const settings = claims.deepLinking!;
        const pickToken = random();
        const expires = new Date(clock().getTime() + PICK_TTL_SECONDS * 1000).toISOString();
        const wantsLineItem = claims.ags?.scopes.includes(AGS_SCOPE.lineItem) ?? false;
        await store.run('INSERT INTO lti_deep_links (token_hash, issuer, client_id, deployment_id, return_url, data, accept_multiple, wants_line_item, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
          sha256(pickToken),
          platform.issuer,
          platform.clientId,
          claims.deploymentId,
          settings.returnUrl,
          settings.data ?? null,
          settings.acceptMultiple ? 1 : 0,
          wantsLineItem ? 1 : 0,
          expires,
        ]);
        return { kind: 'pick', pickToken, platform, choices: await deps.activities(), acceptMultiple: settings.acceptMultiple };
      }

      const activity = await existing(claims.activity!);
      const learnerId = await learnerFor(platform, claims, cookies.session);
      if (claims.displayName) await learners.setDisplayName(learnerId, claims.displayName);
      if (claims.ags?.lineitem && claims.ags.scopes.includes(AGS_SCOPE.score)) {
        await store.run(
          `INSERT INTO lti_grade_links (learner_id, activity_kind, activity_slug, issuer, client_id, subject, lineitem, scopes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (learner_id, activity_kind, activity_slug, issuer, client_id) DO UPDATE SET subject = excluded.subject, lineitem = excluded.lineitem, scopes = excluded.scopes, updated_at = excluded.updated_at`,
          [learnerId, activity.kind, activity.slug, platform.issuer, platform.clientId, claims.subject, claims.ags.lineitem, claims.ags.scopes.join(' '), clock().toISOString()],
        );
      }
      const sessionToken = await learners.startSession(learnerId);
      return { kind: 'signed-in', learnerId, sessionToken, location: `/${activity.kind === 'lab' ? 'labs' : 'quizzes'}/${activity.slug}` };
    },

    /** The instructor's pick: a signed LtiDeepLinkingResponse and where to post it. One use. */
    async deepLinkResponse(pickToken: string | undefined, picked: string[]): Promise<{ returnUrl: string; jwt: string }> {
      await purge();
      if (!pickToken) throw new LtiError(400, 'the pick has no token', 'open the picker again from the LMS');
      const all = await deps.activities();
      const chosen = [...new Set(picked)].map((id) => all.find((a) => `${a.kind}:${a.slug}` === id)).filter((a): a is ActivityChoice => a !== undefined);
      if (!chosen.length) throw new LtiError(400, 'none of the chosen activities exists on this irlab server', 'open the picker again from the LMS and choose from its list');
      const row = await store.get<{ issuer: string; client_id: string; deployment_id: string; return_url: string; data: string | null; accept_multiple: number; wants_line_item: number }>(
        'DELETE FROM lti_deep_links WHERE token_hash = ? RETURNING issuer, client_id, deployment_id, return_url, data, accept_multiple, wants_line_item',
        [sha256(pickToken)],
      );
      if (!row) throw new LtiError(401, 'this picker has expired or was already used', 'add the activity again from the LMS');
      const platform = findPlatform(platforms, row.issuer, row.client_id);
      if (!platform) throw new LtiError(400, `the platform ${row.issuer} is no longer registered`, 'check the file IRLAB_LTI_PLATFORMS names');
      const items = (row.accept_multiple ? chosen : chosen.slice(0, 1)).map((a) => ({
        type: 'ltiResourceLink',
        title: a.title,
        url: `${publicUrl}/${a.kind === 'lab' ? 'labs' : 'quizzes'}/${a.slug}`,
        custom: { activity: `${a.kind}:${a.slug}` },
        ...(row.wants_line_item ? { lineItem: { scoreMaximum: 100, label: a.title, resourceId: `${a.kind}:${a.slug}` } } : {}),
      }));
      const now = Math.floor(clock().getTime() / 1000);
      const jwt = await new SignJWT({
        nonce: random(),
        [CLAIM.messageType]: 'LtiDeepLinkingResponse',
        [CLAIM.version]: LTI_VERSION,
        [CLAIM.deploymentId]: row.deployment_id,
        [CLAIM.contentItems]: items,
        ...(row.data !== null ? { [CLAIM.deepLinkingData]: row.data } : {}),
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(platform.clientId)
        .setAudience(platform.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(random())
        .sign(key.privateKey);
      return { returnUrl: row.return_url, jwt };
    },
  };
}

export type LtiService = ReturnType<typeof ltiService>;
