// Which in-scope secrets count as rotated, judged by effect: an ordinary secret needs a new value
// for every key that held one; a token Secret is revoked by changing the key that authenticates
// or by going away (kind's tokencleaner deletes a bootstrap token whose expiration was rotated).
import { describe, expect, it } from 'vitest';
import { sha256, type SeededSecret } from '../../scenarios/scope-key.ts';
import { rotationOf } from './eradication-facts.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const seeded = (name: string, type: string, values: Record<string, string>): SeededSecret => ({
  namespace: 'kube-system',
  name,
  type,
  keys: Object.keys(values).sort(),
  values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, sha256(v)])),
});
const bootstrap = seeded('bootstrap-token-abcdef', 'bootstrap.kubernetes.io/token', { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' });
const opaque = seeded('db', 'Opaque', { PASSWORD: 'hunter2', USER: 'app' });
const data = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)]));

describe('rotationOf', () => {
  it('a bootstrap token: its secret changed, or the Secret gone, is revoked; its id and usages may stay', () => {
    expect(rotationOf([bootstrap], () => data({ 'token-id': 'abcdef', 'token-secret': 'fedcba9876543210', 'usage-bootstrap-authentication': 'true' }))).toEqual({ secretsUnrotated: 0, secretsRemoved: 0 });
    expect(rotationOf([bootstrap], () => undefined)).toEqual({ secretsUnrotated: 0, secretsRemoved: 0 });
    expect(rotationOf([bootstrap], () => data({ 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', extra: 'x' }))).toEqual({ secretsUnrotated: 1, secretsRemoved: 0 });
  });

  it('an ordinary secret: every key needs a new value; deleting it changes no credential', () => {
    expect(rotationOf([opaque], () => data({ PASSWORD: 'n3w', USER: 'app2' }))).toEqual({ secretsUnrotated: 0, secretsRemoved: 0 });
    expect(rotationOf([opaque], () => data({ PASSWORD: 'n3w', USER: 'app' }))).toEqual({ secretsUnrotated: 1, secretsRemoved: 0 });
    expect(rotationOf([opaque], () => undefined)).toEqual({ secretsUnrotated: 0, secretsRemoved: 1 });
  });

  it('a service account token Secret: only its token counts', () => {
    const sa = seeded('deployer-token', 'kubernetes.io/service-account-token', { token: 'eyJ.old', 'ca.crt': 'CA', namespace: 'ci' });
    expect(rotationOf([sa], () => data({ token: 'eyJ.new', 'ca.crt': 'CA', namespace: 'ci' }))).toEqual({ secretsUnrotated: 0, secretsRemoved: 0 });
    expect(rotationOf([sa], () => undefined)).toEqual({ secretsUnrotated: 0, secretsRemoved: 0 });
  });
});
