import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { endpointAddress, normalizeAddress, proxiedAddress, requestAddress, trustForwardedAddress } from '../http/client-address.ts';
import { forwardSigner, forwardVerifier } from '../cells/forward-auth.ts';
import { ConcurrencyLimiter, RateLimiter } from './rate-limit.ts';
import { loadConfig } from '../app/config.ts';
import { ServerLimits, tooManyRequests, type LimitsConfig } from './server-limits.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter (token buckets)', () => {
  const rate = { limit: 3, windowMs: 60_000 };

  it('admits `limit` actions at once, then refuses with the time until the next', () => {
    const t = clock();
    const limiter = new RateLimiter(t.now);
    for (let i = 0; i < 3; i++) expect(limiter.take([{ key: 'a', rate }])).toEqual({ ok: true });
    expect(limiter.take([{ key: 'a', rate }])).toEqual({ ok: false, key: 'a', retryAfterMs: 20_000 });
    t.advance(19_999);
    expect(limiter.take([{ key: 'a', rate }]).ok).toBe(false);
    t.advance(1);
    expect(limiter.take([{ key: 'a', rate }]).ok).toBe(true);
    expect(limiter.take([{ key: 'a', rate }]).ok).toBe(false);
    // Another key has its own budget.
    expect(limiter.take([{ key: 'b', rate }]).ok).toBe(true);
  });

  it('refills to the limit, never beyond', () => {
    const t = clock();
    const limiter = new RateLimiter(t.now);
    for (let i = 0; i < 3; i++) limiter.take([{ key: 'a', rate }]);
    t.advance(10 * 60_000);
    for (let i = 0; i < 3; i++) expect(limiter.take([{ key: 'a', rate }]).ok).toBe(true);
    expect(limiter.take([{ key: 'a', rate }]).ok).toBe(false);
  });

  it('charges every key or none: a refusal by one key costs the others nothing', () => {
    const limiter = new RateLimiter(clock().now);
    const learner = { key: 'learner', rate: { limit: 5, windowMs: 60_000 } };
    const address = { key: 'address', rate: { limit: 2, windowMs: 60_000 } };
    expect(limiter.take([learner, address]).ok).toBe(true);
    expect(limiter.take([learner, address]).ok).toBe(true);
    expect(limiter.take([learner, address])).toMatchObject({ ok: false, key: 'address' });
    // The learner spent two, not three: four more on their own.
    for (let i = 0; i < 3; i++) expect(limiter.take([learner]).ok).toBe(true);
    expect(limiter.take([learner]).ok).toBe(false);
  });

  it('treats a limit of 0 as no limit', () => {
    const limiter = new RateLimiter(clock().now);
    for (let i = 0; i < 1000; i++) expect(limiter.take([{ key: 'a', rate: { limit: 0, windowMs: 1 } }]).ok).toBe(true);
  });

  it('keeps memory bounded: refilled buckets are swept', () => {
    const t = clock();
    const limiter = new RateLimiter(t.now);
    for (let i = 0; i < 10_000; i++) limiter.take([{ key: `k${i}`, rate }]);
    expect(limiter.size).toBe(10_000);
    t.advance(60_000);
    limiter.take([{ key: 'last', rate }]);
    limiter.take([{ key: 'one-more', rate }]);
    expect(limiter.size).toBeLessThanOrEqual(2);
  });
});

describe('ConcurrencyLimiter', () => {
  it('admits up to max at once per key, and release gives the room back once', () => {
    const limiter = new ConcurrencyLimiter();
    const a = limiter.enter([{ key: 'x', max: 2 }]);
    const b = limiter.enter([{ key: 'x', max: 2 }]);
    expect(a.ok && b.ok).toBe(true);
    expect(limiter.enter([{ key: 'x', max: 2 }])).toEqual({ ok: false, key: 'x' });
    if (!a.ok) return;
    a.release();
    a.release();
    expect(limiter.count('x')).toBe(1);
    expect(limiter.enter([{ key: 'x', max: 2 }]).ok).toBe(true);
  });
});

const config: LimitsConfig = { ...loadConfig({}).limits, startsPerLearner: 2, startsPerAddress: 3, startsWindowSeconds: 600, queriesPerLearner: 1, queriesPerAddress: 2 };

describe('ServerLimits', () => {
  it('limits cluster starts per learner, then per address, and says when to retry', async () => {
    const t = clock();
    const limits = new ServerLimits(config, t.now);
    expect(await limits.clusterStart({ learner: 'l1', address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.clusterStart({ learner: 'l1', address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.clusterStart({ learner: 'l1', address: '10.0.0.1' })).toEqual({ reason: 'too many cluster starts by you: at most 2 in 10 minutes; try again in 300 s', retryAfterSeconds: 300 });
    // A new learner (no cookie, or a fresh one) from the same address has the address's budget left: one.
    expect(await limits.clusterStart({ learner: 'l2', address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.clusterStart({ address: '10.0.0.1' })).toMatchObject({ reason: expect.stringContaining('from your address: at most 3 in 10 minutes'), retryAfterSeconds: 200 });
    expect(await limits.clusterStart({ learner: 'l3', address: '10.0.0.2' })).toBeUndefined();
  });

  it('limits class join attempts (guessing join codes) per address, cookies or not', async () => {
    const t = clock();
    const limits = new ServerLimits({ ...config, joinsPerLearner: 10, joinsPerAddress: 3, joinsWindowSeconds: 600 }, t.now);
    for (let i = 0; i < 3; i++) expect(await limits.join({ address: '10.0.0.1' })).toBeUndefined();
    expect(await limits.join({ learner: 'fresh', address: '10.0.0.1' })).toEqual({ reason: 'too many attempts to join a class from your address: at most 3 in 10 minutes; try again in 200 s', retryAfterSeconds: 200 });
    expect(await limits.join({ address: '10.0.0.2' })).toBeUndefined();
  });

  it('limits queries running at once per learner and per address', () => {
    const limits = new ServerLimits(config);
    const first = limits.query({ learner: 'l1', address: 'a' }, 5);
    expect(first.ok).toBe(true);
    expect(limits.query({ learner: 'l1', address: 'a' }, 5)).toMatchObject({ ok: false, reason: expect.stringContaining('you already have 1 query running'), retryAfterSeconds: 5 });
    expect(limits.query({ learner: 'l2', address: 'a' }, 5).ok).toBe(true);
    expect(limits.query({ learner: 'l3', address: 'a' }, 5)).toMatchObject({ ok: false, reason: expect.stringContaining('this address already has 2 queries running') });
    if (first.ok) first.release();
    expect(limits.query({ learner: 'l3', address: 'a' }, 5).ok).toBe(true);
  });

  it('answers 429 with the reason, when to retry, and Retry-After', async () => {
    const response = tooManyRequests({ reason: 'too many checks by you', retryAfterSeconds: 7 });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: 'too many checks by you', retryAfterSeconds: 7 });
  });
});

describe('client addresses', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:0:1:aaaa:bbbb:cccc:dddd', '2001:db8:0:1::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0000:0001::7%eth0', '2001:db8:0:1::/64'],
    ['1::2:3:4:1.2.3.4', '1:0:0:2::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s is keyed as %s', (peer, key) => {
    expect(normalizeAddress(peer)).toBe(key);
  });

  it.each([
    ['198.51.100.7', '198.51.100.7'],
    // Entries before the last are the client's own claims: only the proxy's own is believed.
    ['10.0.0.1, 203.0.113.9,198.51.100.7', '198.51.100.7'],
    [['1.1.1.1', '198.51.100.7'], '198.51.100.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['[2001:db8::1]:443', '2001:db8:0:0::/64'],
    ['::ffff:198.51.100.7', '198.51.100.7'],
    [undefined, undefined],
    ['', undefined],
    ['198.51.100.7, not-an-address', undefined],
    ['unknown', undefined],
    [`${'1'.repeat(70)}`, undefined],
  ])('behind a trusted proxy, X-Forwarded-For %j is the client %s', (header, address) => {
    const req = { headers: header === undefined ? {} : { 'x-forwarded-for': header }, socket: { remoteAddress: '10.0.0.5' } } as unknown as IncomingMessage;
    expect(proxiedAddress(req)).toBe(address);
  });

  it('is the browser\'s on a cell, for raw routes and endpoints alike, once the gate trusts its front\'s header', () => {
    const req = { socket: { remoteAddress: '::ffff:10.0.0.5' } } as unknown as IncomingMessage;
    expect(requestAddress(req)).toBe('10.0.0.5');
    trustForwardedAddress(req, '198.51.100.7');
    expect(requestAddress(req)).toBe('198.51.100.7');
    // The HTTP server hands endpoints requestAddress(req) in locals; Astro's clientAddress is the socket's peer.
    expect(endpointAddress({ clientAddress: '10.0.0.5', locals: { clientAddress: requestAddress(req) } })).toBe('198.51.100.7');
    expect(endpointAddress({ clientAddress: '::ffff:10.0.0.5', locals: {} })).toBe('10.0.0.5');
  });

  it('every kind of key a front can see fits the signed header', () => {
    const key = 'k'.repeat(48);
    const signer = forwardSigner({ key });
    const verifier = forwardVerifier({ key, cellId: 'cell-a' });
    for (const peer of ['127.0.0.1', '::ffff:10.1.2.3', '2001:db8:0:1:aaaa:bbbb:cccc:dddd', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', undefined]) {
      const address = normalizeAddress(peer);
      const request = { method: 'POST', path: '/api/labs/l18/start', learnerId: 'l1', cellId: 'cell-a', address };
      expect(verifier.verify(signer.sign(request), request)).toMatchObject({ ok: true, address });
    }
  });
});
