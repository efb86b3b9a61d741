// Issue #15 finding 7 on a REAL lab cluster through the real server process (serve.ts over the
// built site): the lab service there is serve.ts's copy, the endpoint is Astro's bundled copy, and
// a refused audit policy must still reach the learner as a 422 with the reason, not a 500.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesUnder } from '../../src/server/cluster/host-census.ts';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

let server: RealServer;
let cookie: string;
const kwokWork = () => path.join(path.dirname(server.dataDir), 'kwok');

async function call(action: string, body: unknown = {}): Promise<{ status: number; error?: string }> {
  const response = await fetch(`${server.base}/api/labs/l18/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(240_000),
  });
  cookie ||= response.headers.get('set-cookie')?.split(';')[0] ?? '';
  return { status: response.status, ...((await response.json()) as { error?: string }) };
}

beforeAll(async () => {
  server = await startRealServer();
  cookie = '';
}, 90_000);

afterAll(async () => {
  if (!server) return;
  await call('reset').catch(() => undefined);
  await server.stop();
  expect(processesUnder(kwokWork()).map((p) => p.command)).toEqual([]);
}, 120_000);

describe('lab errors through the real server, on a real cluster', () => {
  it('a refused policy on Apply is a 422 with the reason; an unknown step a 404; Reset ends the run', async () => {
    expect((await call('start')).status).toBe(200);
    const me = (await (await fetch(`${server.base}/api/me`, { headers: { cookie } })).json()) as { id: string };
    await writeFile(path.join(server.dataDir, 'workspaces', me.id, 'audit-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n');

    const refused = await call('apply-policy');
    expect(refused.status, refused.error).toBe(422);
    expect(refused.error).toMatch(/refuse.*Everything/s);

    const unknown = await call('check', { step: 'no-such-step' });
    expect(unknown).toEqual({ status: 404, error: 'no step "no-such-step" in lab l18' });

    expect((await call('reset')).status).toBe(200);
    expect(await call('check', { step: 'audit-policy' })).toEqual({ status: 409, error: 'start the lab first' });
  }, 300_000);
});
