import { describe, expect, it } from 'vitest';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import { judgeScope, normaliseIdentity, normaliseSecretRef, parseReach } from './scope.ts';

const web = 'system:serviceaccount:production:web-app';
const ci = 'system:serviceaccount:ci:deployer';
const all = ['ci/deployer-token', 'ci/registry-credentials', 'payments/payments-db', 'payments/stripe-api-key', 'production/web-app-session-key'];
const key = {
  tokenCredentials: [{ secret: 'ci/deployer-token', username: ci, token: 't' }],
  scope: {
    identities: [web, ci],
    boundTokens: [],
    created: [],
    reach: { [web]: all, [ci]: ['ci/deployer-token', 'ci/registry-credentials'] },
    secrets: all.map((ref) => ({ namespace: ref.split('/')[0]!, name: ref.split('/')[1]!, type: 'Opaque', keys: [], values: {} })),
  },
} as unknown as AnswerKey;
const right = { identities: `${web}, ${ci}`, 'stolen-credentials': 'ci/deployer-token', reach: `${web}: *; ${ci}: ci/*` };
const failed = (answers: Record<string, string>) => judgeScope(answers, key).filter((c) => !c.passed).map((c) => c.id);

describe('scope', () => {
  it('normalises the forms people write identities and secrets in', () => {
    for (const form of ['system:serviceaccount:ci:deployer', 'ci/deployer', 'ci:deployer', 'serviceaccount/ci/deployer', 'SA:ci/deployer', ' CI/Deployer ']) {
      expect(normaliseIdentity(form)).toBe(ci);
    }
    for (const form of ['ci/deployer-token', 'secret/ci/deployer-token', 'secrets/ci/deployer-token', 'ci:deployer-token']) expect(normaliseSecretRef(form)).toBe('ci/deployer-token');
  });

  it('reads one entry per identity, on lines or separated by ;, with namespace wildcards', () => {
    const reach = parseReach(`${web} -> payments/*, production/web-app-session-key\nci/deployer: ci/deployer-token ci/registry-credentials`, all);
    expect([...reach.get(web)!].toSorted()).toEqual(['payments/payments-db', 'payments/stripe-api-key', 'production/web-app-session-key']);
    expect([...reach.get(ci)!]).toEqual(['ci/deployer-token', 'ci/registry-credentials']);
  });

  it('passes the exact sets in any form', () => {
    expect(failed(right)).toEqual([]);
    expect(failed({ identities: 'ci/deployer\nproduction/web-app', 'stolen-credentials': 'secret/ci/deployer-token', reach: `production/web-app = ${all.join(' ')} | ci:deployer => ci/deployer-token, ci/registry-credentials` })).toEqual([]);
  });

  it('fails a set that misses or adds anything, a list read counted as a read of every secret', () => {
    expect(failed({ ...right, identities: web })).toEqual(['identities']);
    expect(failed({ ...right, identities: `${web}, ${ci}, monitoring/prometheus` })).toEqual(['identities']);
    expect(failed({ ...right, 'stolen-credentials': 'ci/deployer-token, payments/payments-db' })).toEqual(['stolen-credentials']);
    expect(failed({ ...right, reach: `${web}: payments/payments-db; ${ci}: ci/*` })).toEqual(['reach']);
    expect(failed({ ...right, reach: `${web}: *` })).toEqual(['reach']);
    expect(failed({ ...right, reach: `${web}: *; ${ci}: ci/*; monitoring/prometheus: *` })).toEqual(['reach']);
  });

  it('says which criterion fails without counts or names', () => {
    const text = judgeScope({ identities: web, 'stolen-credentials': '', reach: '' }, key).map((c) => c.message).join('\n');
    for (const leak of ['deployer', 'ci/', 'registry', /\d/]) expect(text).not.toMatch(leak);
  });
});
