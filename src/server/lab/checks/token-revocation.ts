/**
 * Revoke a leaked token: the API server no longer accepts the long-lived token the attacker
 * used (asked with TokenReview, the API server's own verdict), while the service account that
 * the real pipeline runs as is kept. A legacy token lives exactly as long as its Secret holds it.
 */
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { Check } from '../check.ts';

/** What the backing Secret holds now, compared with the leaked token. */
export type SecretState = 'holds-token' | 'gone' | 'other-token';

export interface TokenFacts {
  secret: string;
  username: string;
  secretState: SecretState;
  /** TokenReview's verdict on the leaked token. */
  authenticated: boolean;
  /** TokenReview's error, e.g. "Token has been invalidated". */
  reviewError?: string;
  /** Whether the service account the token belongs to still exists. */
  accountExists: boolean;
}

/** The API server caches a successful token verdict for 10 s; a revoked token can pass that long. */
export const TOKEN_CACHE_MS = 10_000;

export function judgeTokenRevocation(facts: TokenFacts[]): CriterionResult[] {
  if (facts.length === 0) {
    return [
      { id: 'token-rejected', passed: false, message: 'this scenario\'s attacker used no leaked token: the token-revoked check does not apply to it' },
      { id: 'account-kept', passed: false, message: 'no leaked token to judge' },
    ];
  }
  const live = facts.filter((f) => f.authenticated);
  const deleted = facts.filter((f) => !f.accountExists);
  const account = (f: TokenFacts) => f.username.replace(/^system:serviceaccount:([^:]+):/, '$1/');
  const why = (f: TokenFacts) =>
    f.secretState === 'holds-token'
      ? `Secret ${f.secret} still holds it: delete that Secret (a legacy token is valid for as long as its Secret holds it)`
      : `its Secret ${f.secret} no longer holds it, yet the API server still accepted it after waiting out its ${TOKEN_CACHE_MS / 1000} s token cache`;
  return [
    {
      id: 'token-rejected',
      passed: live.length === 0,
      message: live.length === 0
        ? `the API server rejects the leaked token${facts.length > 1 ? 's' : ''} (${[...new Set(facts.map((f) => f.reviewError || 'not authenticated'))].join('; ')})`
        : `the leaked token still authenticates as ${live[0]!.username}: ${why(live[0]!)}`,
    },
    {
      id: 'account-kept',
      passed: deleted.length === 0,
      message: deleted.length === 0
        ? 'the service account is kept: the pipeline goes on with its pod-bound tokens'
        : `service account ${account(deleted[0]!)} was deleted: that kills the token but also the pipeline that runs as it; recreate it and revoke only the leaked token`,
    },
  ];
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Asks TokenReview; when the Secret no longer holds the token but the API server still says
 * yes, asks again until its token cache has expired, so a right answer is not failed by a cache.
 */
export async function reviewToken(
  review: () => Promise<{ authenticated: boolean; error?: string }>,
  secretState: SecretState,
  options: { sleep?: (ms: number) => Promise<void>; waitMs?: number; signal?: AbortSignal } = {},
): Promise<{ authenticated: boolean; error?: string }> {
  // A check out of time stops waiting out the cache at once.
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, options.signal ? { signal: options.signal } : {}));
  let waited = 0;
  const limit = options.waitMs ?? TOKEN_CACHE_MS + 1_000;
  for (;;) {
    const verdict = await review();
    if (!verdict.authenticated || secretState === 'holds-token' || waited >= limit) return verdict;
    await sleep(1_000);
    waited += 1_000;
  }
}

export const tokenRevocationCheck: Check = {
  name: 'token-revoked',
  description: 'The long-lived token the attacker used no longer authenticates (TokenReview), and the service account it belongs to is kept for the real pipeline.',
  criteria: ['token-rejected', 'account-kept'],
  async run({ kubeConfig, answerKey }, signal) {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const authn = kubeConfig.makeApiClient(AuthenticationV1Api);
    const facts: TokenFacts[] = [];
    for (const credential of tokenCredentialsOf(answerKey)) {
      const [namespace = '', name = ''] = credential.secret.split('/');
      const secret = await core.readNamespacedSecret({ name, namespace }).catch((error: { code?: number }) => {
        if (error.code === 404) return undefined;
        throw error;
      });
      const held = secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : undefined;
      const secretState: SecretState = !secret ? 'gone' : held !== undefined && sha(held) === sha(credential.token) ? 'holds-token' : 'other-token';
      const verdict = await reviewToken(async () => {
        const reviewed = await authn.createTokenReview({ body: { spec: { token: credential.token } } });
        return { authenticated: reviewed.status?.authenticated === true, ...(reviewed.status?.error ? { error: reviewed.status.error } : {}) };
      }, secretState, { signal });
      const account = /^system:serviceaccount:([^:]+):(.+)$/.exec(credential.username);
      const accountExists = account
        ? Boolean(await core.readNamespacedServiceAccount({ namespace: account[1]!, name: account[2]! }).catch((error: { code?: number }) => {
          if (error.code === 404) return undefined;
          throw error;
        }))
        : true;
      facts.push({ secret: credential.secret, username: credential.username, secretState, authenticated: verdict.authenticated, ...(verdict.error ? { reviewError: verdict.error } : {}), accountExists });
    }
    return resultOf(judgeTokenRevocation(facts));
  },
};

function tokenCredentialsOf(key: AnswerKey) {
  return key.tokenCredentials ?? [];
}
