import { describe, expect, it } from 'vitest';
import { judgeTokenRevocation, reviewToken, type TokenFacts } from './token-revocation.ts';

const leaked: TokenFacts = {
  secret: 'ci/deployer-token',
  username: 'system:serviceaccount:ci:deployer',
  secretState: 'holds-token',
  authenticated: true,
  accountExists: true,
};

describe('token revocation', () => {
  it('fails while the Secret still holds the leaked token, and says which Secret to delete', () => {
    const [rejected, kept] = judgeTokenRevocation([leaked]);
    expect(rejected).toMatchObject({ id: 'token-rejected', passed: false });
    expect(rejected!.message).toContain('still authenticates as system:serviceaccount:ci:deployer: Secret ci/deployer-token still holds it');
    expect(kept).toMatchObject({ id: 'account-kept', passed: true });
  });

  it('passes once the API server rejects the token and the account is kept', () => {
    const criteria = judgeTokenRevocation([{ ...leaked, secretState: 'gone', authenticated: false, reviewError: '[invalid bearer token, Token has been invalidated]' }]);
    expect(criteria.every((c) => c.passed)).toBe(true);
    expect(criteria[0]!.message).toContain('Token has been invalidated');
  });

  it('fails a revocation by deleting the service account: the pipeline needs it', () => {
    const criteria = judgeTokenRevocation([{ ...leaked, secretState: 'gone', authenticated: false, accountExists: false }]);
    expect(criteria.find((c) => c.id === 'token-rejected')?.passed).toBe(true);
    expect(criteria.find((c) => c.id === 'account-kept')?.message).toContain('service account ci/deployer was deleted');
  });

  it('fails every criterion for a scenario without a leaked token', () => {
    expect(judgeTokenRevocation([]).map((c) => c.passed)).toEqual([false, false]);
  });

  it('waits out the token cache only when the Secret no longer holds the token', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const answers = [true, true, false];
    const gone = await reviewToken(async () => ({ authenticated: answers.shift()! }), 'gone', { sleep });
    expect(gone.authenticated).toBe(false);
    expect(slept).toEqual([1000, 1000]);

    slept.length = 0;
    const held = await reviewToken(async () => ({ authenticated: true }), 'holds-token', { sleep });
    expect(held.authenticated).toBe(true);
    expect(slept).toEqual([]);

    const stuck = await reviewToken(async () => ({ authenticated: true }), 'other-token', { sleep, waitMs: 3000 });
    expect(stuck.authenticated).toBe(true);
    expect(slept).toEqual([1000, 1000, 1000]);
  });
});
