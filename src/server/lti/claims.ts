/**
 * An LTI 1.3 launch's id_token: its signature, issuer, audience and times checked with jose
 * (verifyIdToken), then its LTI claims (launchClaims: pure, unit-tested). Every refusal is an
 * LtiError saying what was wrong and what the LMS administrator should check; none quotes the
 * token.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Platform } from './platforms.ts';

export const LTI_VERSION = '1.3.0';
export const CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  deepLinkingData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
} as const;
export const AGS_SCOPE = {
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
} as const;

/** A refused LTI request: `message` says what was wrong, `fix` what to check; never a 5xx. */
export class LtiError extends Error {
  readonly status: number;
  readonly fix: string;
  constructor(status: 400 | 401 | 403 | 404 | 429, message: string, fix: string) {
    super(message);
    this.name = 'LtiError';
    this.status = status;
    this.fix = fix;
  }
}

export interface Activity {
  kind: 'lab' | 'quiz';
  slug: string;
}

export interface AgsEndpoint {
  lineitem: string | undefined;
  lineitems: string | undefined;
  scopes: string[];
}

export interface DeepLinkingSettings {
  returnUrl: string;
  data: string | undefined;
  acceptMultiple: boolean;
  acceptsResourceLinks: boolean;
}

export interface LaunchClaims {
  messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  deploymentId: string;
  subject: string;
  displayName: string | undefined;
  email: string | undefined;
  /** The lab or quiz a resource link launch names (custom `activity`, else target_link_uri). */
  activity: Activity | undefined;
  ags: AgsEndpoint | undefined;
  deepLinking: DeepLinkingSettings | undefined;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
const SLUG = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The activity a launch names: the custom parameter `activity` ("lab:l18", "quiz:l18": what Deep
 * Linking puts in the link), else a target_link_uri on irlab's own origin, /labs/<slug> or
 * /quizzes/<slug>. Anything else (another origin: an open redirect) names nothing.
 */
export function activityOf(custom: Record<string, unknown> | undefined, targetLinkUri: string | undefined, publicUrl: string): Activity | undefined {
  const named = str(custom?.activity);
  if (named) {
    const match = /^(lab|quiz):(.+)$/.exec(named.trim());
    return match && SLUG.test(match[2]!) ? { kind: match[1] as Activity['kind'], slug: match[2]! } : undefined;
  }
  if (!targetLinkUri || !URL.canParse(targetLinkUri)) return undefined;
  const url = new URL(targetLinkUri);
  if (url.origin !== new URL(publicUrl).origin) return undefined;
  const match = /^\/(labs|quizzes)\/([^/]+)\/?$/.exec(url.pathname);
  if (!match || !SLUG.test(match[2]!)) return undefined;
  return { kind: match[1] === 'labs' ? 'lab' : 'quiz', slug: match[2]! };
}

/** The LTI claims of a verified id_token, checked against the registration; throws LtiError. */
export function launchClaims(payload: JWTPayload, platform: Platform, publicUrl: string): LaunchClaims {
  const who = `the launch from ${platform.name}`;
  // Several audiences: the token must say it was issued for us (OIDC Core 3.1.3.7, LTI 1.3 5.1.3).
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if ((audiences.length > 1 || payload.azp !== undefined) && payload.azp !== platform.clientId) {
    throw new LtiError(401, `${who} has several audiences and its azp is not irlab's client ID`, `the token's azp must be the client ID irlab is registered with (${platform.clientId})`);
  }
  const version = payload[CLAIM.version];
  if (version !== LTI_VERSION) throw new LtiError(400, `${who} is not LTI ${LTI_VERSION} (version: ${JSON.stringify(version)?.slice(0, 40)})`, 'register irlab as an LTI 1.3 (LTI Advantage) tool, not LTI 1.1');
  const messageType = payload[CLAIM.messageType];
  if (messageType !== 'LtiResourceLinkRequest' && messageType !== 'LtiDeepLinkingRequest') {
    throw new LtiError(400, `${who} is a message irlab does not handle (${JSON.stringify(messageType)?.slice(0, 60)})`, 'irlab accepts resource link launches and Deep Linking requests');
  }
  const deploymentId = str(payload[CLAIM.deploymentId]);
  if (!deploymentId) throw new LtiError(400, `${who} names no deployment`, 'the platform must send its deployment_id claim');
  if (!platform.deploymentIds.includes(deploymentId)) {
    throw new LtiError(403, `${who} comes from deployment "${deploymentId.slice(0, 80)}", which is not registered`, `add "${deploymentId.slice(0, 80)}" to deploymentIds of this platform in the file IRLAB_LTI_PLATFORMS names, or launch from a registered deployment`);
  }
  const subject = str(payload.sub);
  if (!subject) throw new LtiError(400, `${who} names no user (no sub)`, 'anonymous launches are not supported: the platform must send the user\'s id');

  const custom = record(payload[CLAIM.custom]);
  const targetLinkUri = str(payload[CLAIM.targetLinkUri]);
  const agsClaim = record(payload[CLAIM.ags]);
  const ags = agsClaim
    ? {
        lineitem: str(agsClaim.lineitem),
        lineitems: str(agsClaim.lineitems),
        scopes: Array.isArray(agsClaim.scope) ? agsClaim.scope.filter((s): s is string => typeof s === 'string') : [],
      }
    : undefined;

  let activity: Activity | undefined;
  let deepLinking: DeepLinkingSettings | undefined;
  if (messageType === 'LtiResourceLinkRequest') {
    if (!record(payload[CLAIM.resourceLink]) || !str(record(payload[CLAIM.resourceLink])!.id)) throw new LtiError(400, `${who} has no resource_link id`, 'the platform must send the resource_link claim');
    activity = activityOf(custom, targetLinkUri, publicUrl);
    if (!activity) {
      throw new LtiError(404, `${who} names no irlab lab or quiz (target_link_uri and the custom parameter "activity" name none)`, `add the link again through Deep Linking, or set its URL to ${publicUrl}/labs/<lab> or ${publicUrl}/quizzes/<quiz>`);
    }
  } else {
    const settings = record(payload[CLAIM.deepLinkingSettings]);
    const returnUrl = str(settings?.deep_link_return_url);
    if (!settings || !returnUrl || !URL.canParse(returnUrl) || !/^https?:$/.test(new URL(returnUrl).protocol)) {
      throw new LtiError(400, `${who} is a Deep Linking request without a deep_link_return_url`, 'the platform must send deep_linking_settings with deep_link_return_url');
    }
    const acceptTypes = Array.isArray(settings.accept_types) ? settings.accept_types : [];
    deepLinking = { returnUrl, data: str(settings.data), acceptMultiple: settings.accept_multiple === true, acceptsResourceLinks: acceptTypes.includes('ltiResourceLink') };
    if (!deepLinking.acceptsResourceLinks) throw new LtiError(400, `${who} does not accept LTI resource links (accept_types)`, 'irlab offers its labs and quizzes as ltiResourceLink items; use a placement that accepts them');
  }
  const name = str(payload.name) ?? ([str(payload.given_name), str(payload.family_name)].filter(Boolean).join(' ') || undefined);
  return { messageType, deploymentId, subject, displayName: name?.slice(0, 60), email: str(payload.email), activity, ags, deepLinking };
}

/** Verifies the id_token's RS256 signature with the platform's keys, its issuer, audience and times; throws LtiError. */
export async function verifyIdToken(idToken: string, platform: Platform, keys: JWTVerifyGetKey, now: Date): Promise<JWTPayload> {
  const who = `the id_token from ${platform.name}`;
  try {
    const { payload } = await jwtVerify(idToken, keys, { issuer: platform.issuer, audience: platform.clientId, algorithms: ['RS256'], currentDate: now, clockTolerance: 60, requiredClaims: ['exp', 'iat', 'nonce'] });
    return payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new LtiError(401, `${who} has expired`, 'launch again from the LMS; if it keeps happening, check the clocks of the LMS and irlab servers');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      const fix =
        error.claim === 'aud'
          ? `the token is not for irlab's registration: its audience must be the client ID ${platform.clientId}; check the client ID in IRLAB_LTI_PLATFORMS`
          : error.claim === 'iss'
            ? `its issuer must be ${platform.issuer}; check the issuer in IRLAB_LTI_PLATFORMS`
            : 'launch again from the LMS; check the clocks of the LMS and irlab servers';
      throw new LtiError(401, `${who} was refused: its ${error.claim} claim ${error.reason === 'check_failed' ? 'does not match' : error.reason.replaceAll('_', ' ')}`, fix);
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
      throw new LtiError(401, `${who} is not signed by the platform's key (its signature does not verify with ${platform.jwksUrl})`, 'check the platform\'s public keyset URL in IRLAB_LTI_PLATFORMS; a token signed by anyone else is refused');
    }
    // Anything but a JOSE error comes from fetching the key set (a refused connection, DNS); jose
    // reports an answer other than 200 as a generic error naming it.
    if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || !(error instanceof joseErrors.JOSEError) || /Expected 200/.test(error.message)) {
      throw new LtiError(401, `the platform's keys could not be fetched from ${platform.jwksUrl}`, 'check the keyset URL in IRLAB_LTI_PLATFORMS and that irlab\'s server can reach it');
    }
    throw new LtiError(401, `${who} is not a valid signed token (${error.code})`, 'the platform must post an RS256-signed id_token');
  }
}
