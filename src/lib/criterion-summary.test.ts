import { describe, expect, it } from 'vitest';
import { sameMessageOnce, summariseMessage } from './criterion-summary.ts';

describe('one line per criterion', () => {
  it('keeps a short message whole, with nothing to expand', () => {
    expect(summariseMessage('no quarantine label on any pod in production')).toEqual({ line: 'no quarantine label on any pod in production' });
  });

  it('shows the first clause of a long message and keeps all of it as details', () => {
    const message =
      '3 of 8 secrets requests need at least Metadata: get secrets/db-credentials in production, list secrets in production (as system:serviceaccount:default:default) left no audit event (level None). Fix: add a secrets rule, - {level: Metadata, resources: [{group: "", resources: ["secrets"]}]},';
    expect(summariseMessage(message)).toEqual({ line: '3 of 8 secrets requests need at least Metadata', details: message });
  });

  it('folds a short message that carries a fix after its finding', () => {
    const message = 'secrets are logged at None. Fix: add a secrets rule';
    expect(summariseMessage(message)).toEqual({ line: 'secrets are logged at None', details: message });
  });

  it('cuts a long message without a usable clause at a word', () => {
    const message = `${'word '.repeat(60)}end`;
    const { line, details } = summariseMessage(message);
    expect(line.length).toBeLessThanOrEqual(141);
    expect(line.endsWith('word…')).toBe(true);
    expect(details).toBe(message);
  });

  it('never cuts inside parentheses or code', () => {
    const message =
      'for at least one compromised identity the secrets are not exactly those it could read (one line per identity, `identity: namespace/name, ...`): ask the API server what each may get, list or watch (kubectl auth can-i --list --as ... -n <namespace>); a list reads every secret in its namespace';
    const { line } = summariseMessage(message);
    // Not at the colon inside the backticks (the old cut, "…(one line per identity, `identity").
    expect(line.startsWith('for at least one compromised identity the secrets are not exactly those it could read (one line per identity, `identity: namespace')).toBe(true);
    expect(line.length).toBeLessThanOrEqual(141);
  });
});

describe('sameMessageOnce', () => {
  it('shows criteria that say the same thing once, counted, in the first one\'s place', () => {
    const criteria = [
      { id: 'file', message: 'audit-policy.yaml is missing; write your policy there' },
      { id: 'secrets', message: 'needs audit-policy.yaml first' },
      { id: 'rbac', message: 'needs audit-policy.yaml first ' },
      { id: 'exec', message: 'needs audit-policy.yaml first' },
    ];
    expect(sameMessageOnce(criteria).map((g) => [g.first.id, g.count])).toEqual([
      ['file', 1],
      ['secrets', 3],
    ]);
  });
});
