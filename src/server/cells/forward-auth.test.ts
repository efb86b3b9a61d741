import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardKeyFrom, forwardSigner, forwardVerifier, type ForwardedRequest } from './forward-auth.ts';

const KEY = 'k'.repeat(16) + 'an-irlab-test-forward-key-0123456789';
const T0 = Date.parse('2026-12-07T10:00:00Z');
const request: ForwardedRequest = { method: 'GET', path: '/ws/terminal/abc?watch=1', learnerId: 'learner-1', cellId: 'cell-0', address: '203.0.113.7' };

function pair(options: { replayCapacity?: number } = {}) {
  const time = { now: T0 };
  const clock = () => new Date(time.now);
  return {
    time,
    signer: forwardSigner({ key: KEY, clock }),
    verifier: forwardVerifier({ key: KEY, cellId: 'cell-0', clock, ...options }),
  };
}

describe('the forwarded-request header', () => {
  it('is accepted once, for that request on that cell, until it expires', () => {
    const { signer, verifier, time } = pair();
    const header = signer.sign(request);
    expect(header).toMatch(/^v2\.[\w-]+\.[\w-]+\.[\w-]+\.\d+\.[\w-]{22}\.[\w-]{43}$/);
    expect(verifier.verify(header, request)).toEqual({ ok: true, learnerId: 'learner-1', cellId: 'cell-0', address: '203.0.113.7', expiresAt: T0 + 30_000 });
    expect(verifier.verify(header, request)).toEqual({ ok: false, reason: 'replayed' });

    const other = signer.sign(request);
    expect(verifier.verify(other, { method: 'POST', path: request.path })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifier.verify(other, { method: 'GET', path: '/ws/terminal/abd?watch=1' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(forwardVerifier({ key: KEY, cellId: 'cell-1', clock: () => new Date(time.now) }).verify(other, request)).toEqual({ ok: false, reason: 'wrong-cell' });
    expect(forwardVerifier({ key: `${KEY}x`, cellId: 'cell-0', clock: () => new Date(time.now) }).verify(other, request)).toEqual({ ok: false, reason: 'bad-signature' });

    time.now += 29_999;
    expect(verifier.verify(other, request)).toMatchObject({ ok: true });
    const late = signer.sign(request);
    time.now += 30_000;
    expect(verifier.verify(late, request)).toEqual({ ok: false, reason: 'expired' });
  });

  it('forgets a nonce once its header has expired, and refuses new headers rather than forget a live one', () => {
    const { signer, verifier, time } = pair({ replayCapacity: 3 });
    for (let i = 0; i < 3; i++) expect(verifier.verify(signer.sign(request), request)).toMatchObject({ ok: true });
    expect(verifier.remembered()).toBe(3);
    const fourth = signer.sign(request);
    expect(verifier.verify(fourth, request)).toEqual({ ok: false, reason: 'busy' });
    time.now += 31_000; // the three have expired: their nonces can go
    const fifth = signer.sign(request);
    expect(verifier.verify(fifth, request)).toMatchObject({ ok: true });
    expect(verifier.remembered()).toBe(1);
  });

  it('carries the browser\'s address under the signature: another address in a header is refused', () => {
    const { signer, verifier } = pair();
    const header = signer.sign(request);
    const parts = header.split('.');
    // A browser (or anyone without the key) swapping in another address to spend someone else's budget.
    parts[3] = Buffer.from('198.51.100.1').toString('base64url');
    expect(verifier.verify(parts.join('.'), request)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifier.verify(header, request)).toMatchObject({ ok: true, address: '203.0.113.7' });
    // A v1 header (no address) is not accepted, even when its MAC would have been right.
    expect(verifier.verify(['v1', ...parts.slice(1, 3), ...parts.slice(4)].join('.'), request)).toEqual({ ok: false, reason: 'malformed' });
    expect(() => signer.sign({ ...request, address: 'not an address' })).toThrow(/normalised client address/);
  });

  it('refuses a header that claims a long life, even one signed with the key', () => {
    const time = { now: T0 };
    const longLived = forwardSigner({ key: KEY, clock: () => new Date(time.now), ttlSeconds: 300 });
    const verifier = forwardVerifier({ key: KEY, cellId: 'cell-0', clock: () => new Date(time.now), maxTtlSeconds: 60 });
    expect(verifier.verify(longLived.sign(request), request)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses missing, repeated and malformed headers by name', () => {
    const { signer, verifier } = pair();
    const good = signer.sign(request);
    expect(verifier.verify(undefined, request)).toEqual({ ok: false, reason: 'missing' });
    expect(verifier.verify('', request)).toEqual({ ok: false, reason: 'missing' });
    expect(verifier.verify([good, good], request)).toEqual({ ok: false, reason: 'malformed' });
    for (const bad of ['v1', 'v1' + good.slice(2), `${good}.`, good.replace(/\.\d+\./, '.0123.'), good.replace(/\.\d+\./, '.1e9.'), 'x'.repeat(10_000)]) {
      expect(verifier.verify(bad, request), bad.slice(0, 60)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(verifier.verify(good, request)).toMatchObject({ ok: true });
  });

  it('takes each value in one spelling only: a signature re-spelt in base64url is refused', () => {
    // 32 bytes in base64url leave 2 spare bits in the last character: two spellings decode alike.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const { signer } = pair();
    const header = signer.sign(request);
    const parts = header.split('.');
    const last = parts[6]!.at(-1)!;
    parts[6] = parts[6]!.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1]!;
    const respelt = parts.join('.');
    expect(Buffer.from(respelt.split('.')[6]!, 'base64url')).toEqual(Buffer.from(header.split('.')[6]!, 'base64url'));
    expect(pair().verifier.verify(respelt, request)).toEqual({ ok: false, reason: 'malformed' });
    expect(pair().verifier.verify(header, request)).toMatchObject({ ok: true });
  });

  it('never throws and never accepts on hostile input (property)', () => {
    const { verifier } = pair();
    const anything = fc.oneof(fc.string({ maxLength: 700 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.anything(), fc.array(fc.string()));
    fc.assert(
      fc.property(anything, fc.string(), fc.string(), (header, method, path) => {
        const verdict = verifier.verify(header, { method, path });
        expect(verdict.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses any header that is not exactly one a signer made for this request (property)', () => {
    const id = fc.stringMatching(/^[\w.:-]{1,128}$/);
    fc.assert(
      fc.property(
        fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT'), path: fc.string({ maxLength: 200 }), learnerId: id, cellId: fc.constant('cell-0'), address: fc.constantFrom('127.0.0.1', '2001:db8:0:1::/64', 'unknown') }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 3 }),
        (req, at, replacement) => {
          const { signer, verifier } = pair();
          const header = signer.sign(req);
          const i = at % header.length;
          const changed = header.slice(0, i) + replacement + header.slice(i + 1);
          fc.pre(changed !== header);
          expect(verifier.verify(changed, req).ok).toBe(false);
          expect(verifier.verify(header.slice(0, i), req).ok).toBe(false);
          expect(verifier.verify(header, req)).toMatchObject({ ok: true, learnerId: req.learnerId, address: req.address });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('takes its key from the setting: unset is off, a short or spaced one is refused without showing it', () => {
    expect(forwardKeyFrom(undefined)).toBeUndefined();
    expect(forwardKeyFrom('  ')).toBeUndefined();
    expect(forwardKeyFrom(KEY)).toEqual(Buffer.from(KEY));
    expect(() => forwardKeyFrom('short-secret')).toThrow(/shorter than 32 characters/);
    expect(() => forwardKeyFrom('short-secret')).not.toThrow(/short-secret/);
    expect(() => forwardKeyFrom(`${KEY} ${KEY}`)).toThrow(/white space/);
    expect(() => forwardSigner({ key: 'short' })).toThrow(/shorter than 32 bytes/);
  });
});
