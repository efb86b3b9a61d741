// What needs a real node (kind), asked of the real server on the embedded engine: generated
// hostile node-evidence requests get a 400 with the validator's reason (a well-formed one a 409:
// no run here, and no real node), short, never echoing what was sent; the node-escape drill is
// listed as unavailable with the reason and its creation refused with what, why and how.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { planCollection } from '../../src/server/cluster/node-evidence.ts';
import { startRealServer, type RealServer } from './hostile/real-server.ts';
import { hostileNodeEvidenceRequest } from './hostile/node-evidence-arbitraries.ts';

let server: RealServer;
/** What a lab endpoint reads of a body (src/server/lab/http.ts); a longer one is a 413. */
const LAB_BODY_LIMIT = 16 * 1024;

beforeAll(async () => {
  // Check budgets off: this file sends hundreds of node-evidence requests to reach the validator,
  // not the budget (tests/integration/learner-budgets.test.ts proves the budgets).
  server = await startRealServer({ IRLAB_LIMIT_CHECKS_PER_LEARNER: '0', IRLAB_LIMIT_CHECKS_PER_ADDRESS: '0' });
}, 90_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

async function post(target: string, body: string, cookie?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.base}${target}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

describe('node evidence on the embedded engine', () => {
  it('a generated hostile request is a 400 with the reason, a well-formed one a 409; short, never echoed, the process up', async () => {
    // One learner (the first answer's cookie), as a learner who sends them one after another.
    const first = await fetch(`${server.base}/api/labs/l18/node-evidence`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(first.status).toBe(400);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const seen = { 400: 0, 409: 0 };
    await fc.assert(
      fc.asyncProperty(hostileNodeEvidenceRequest, fc.constantFrom('l18', 'no-such-lab'), async (request, lab) => {
        const sent = JSON.stringify(request);
        const { status, text } = await post(`/api/labs/${lab}/node-evidence`, sent, cookie);
        const what = `${lab} ${sent.slice(0, 200)}: ${status} ${text.slice(0, 300)}`;
        const { error } = JSON.parse(text) as { error: string };
        if (Buffer.byteLength(sent) > LAB_BODY_LIMIT) {
          expect(status, what).toBe(413);
        } else {
          const refused = !planCollection(request['collection'], request['args']).ok;
          expect(status, what).toBe(refused ? 400 : 409);
          expect(error, what).toMatch(refused ? /^node evidence: / : /start the lab first/);
          seen[status as 400 | 409] += 1;
        }
        expect(text.length, what).toBeLessThan(1024);
        // Nothing the learner sent comes back (a name longer than any word of the reasons).
        for (const value of [request['collection'], ...(Array.isArray(request['args']) ? request['args'] : [request['args']])]) {
          if (typeof value === 'string' && value.length > 24) expect(text, what).not.toContain(value);
        }
      }),
      { numRuns: 400 },
    );
    // Both answers were reached: the validator's refusals and the run check behind it.
    expect(seen[400]).toBeGreaterThan(100);
    expect(seen[409]).toBeGreaterThan(5);
    expect(server.exit()).toBeNull();
    expect((await fetch(`${server.base}/api/health`)).status).toBe(200);
  }, 180_000);
});

describe('a drill that needs kind on a server whose drills run on the embedded pool', () => {
  it('is listed as unavailable with the reason, the way a lab needing another engine is', async () => {
    const response = await fetch(`${server.base}/api/drills/scenarios`);
    expect(response.status).toBe(200);
    const scenarios = (await response.json()) as Array<{ slug: string; engine: { engine: string; badge: string; unavailable?: { reason: string; operator: string } } }>;
    const escape = scenarios.find((s) => s.slug === 'node-escape');
    expect(escape?.engine).toMatchObject({ engine: 'kind', badge: 'Needs kind', unavailable: { reason: 'needs the kind engine: real containers and enforced NetworkPolicy; this server runs drills on the embedded engine' } });
    expect(escape?.engine.unavailable?.operator).toMatch(/IRLAB_LAB_ENGINE=kind/);
    for (const other of scenarios.filter((s) => s.slug !== 'node-escape')) expect(other.engine, other.slug).toMatchObject({ engine: 'embedded', badge: 'Embedded engine' });
  });

  it('is refused at creation with what, why and how, before any cluster is claimed', async () => {
    const { status, text } = await post('/api/drills', JSON.stringify({ scenario: 'node-escape', durationMinutes: 20, roles: ['Incident commander'] }));
    expect(status, text).toBe(409);
    const { error } = JSON.parse(text) as { error: string };
    expect(error).toMatch(/^the drill "node-escape" cannot start on this server: it needs the kind engine: real containers and enforced NetworkPolicy; this server runs drills on the embedded engine\. /);
    expect(error).toMatch(/IRLAB_LAB_ENGINE=kind/);
    expect(server.output.join('\n')).not.toMatch(/claim|creat\w+ cluster/i);
  });
});
