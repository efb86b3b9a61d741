// Behind the one reverse proxy irlab trusts (IRLAB_TRUST_PROXY=1, an Ingress), per-address budgets
// charge the address the proxy saw (the last X-Forwarded-For entry), not the proxy's own: without
// it a whole class behind one Ingress shares one budget, and the (limit+1)th attempt of anyone is
// refused. Entries before the last are the client's claims and change nothing. A real server on
// the class-join budget (no cluster needed): 2 attempts per address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

let proxied: RealServer | undefined;
let direct: RealServer | undefined;

beforeAll(async () => {
  const budget = { IRLAB_LIMIT_JOINS_PER_ADDRESS: '2', IRLAB_LIMIT_JOINS_PER_LEARNER: '100' };
  proxied = await startRealServer({ ...budget, IRLAB_TRUST_PROXY: '1' });
  direct = await startRealServer(budget);
}, 120_000);

afterAll(async () => {
  await proxied?.stop();
  await direct?.stop();
}, 60_000);

const join = async (server: RealServer, forwardedFor: string) =>
  (await fetch(`${server.base}/api/classes/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor, origin: server.base },
    body: JSON.stringify({ code: 'NOPE2345', name: 'Ana' }),
  })).status;

describe('the client address behind a trusted proxy', () => {
  it('charges each client the proxy saw, whatever they claim before it', async () => {
    expect(await join(proxied!, '198.51.100.1')).not.toBe(429);
    expect(await join(proxied!, '203.0.113.50, 198.51.100.1')).not.toBe(429);
    // The third from .1, whatever it claims first: refused.
    expect(await join(proxied!, '203.0.113.51, 198.51.100.1')).toBe(429);
    // Another learner behind the same proxy has a budget of her own.
    expect(await join(proxied!, '198.51.100.2')).not.toBe(429);
    expect(await join(proxied!, '198.51.100.2')).not.toBe(429);
    expect(await join(proxied!, '198.51.100.2')).toBe(429);
  });

  it('believes no X-Forwarded-For unless told to trust a proxy', async () => {
    expect(await join(direct!, '198.51.100.1')).not.toBe(429);
    expect(await join(direct!, '198.51.100.2')).not.toBe(429);
    expect(await join(direct!, '198.51.100.3')).toBe(429);
  });
});
