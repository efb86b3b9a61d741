// The terminal's session route spends a cluster start for each new session that would create a
// cluster, checked before the learner or the session exists: a real sandboxed shell behind the
// real route, and the server's own limiter with a small budget.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { ServerLimits } from '../limits/server-limits.ts';
import { spawnNodePty } from '../terminal/node-pty-spawn.ts';
import { prepareSandboxHost } from '../terminal/sandbox-host.ts';
import { TerminalManager } from '../terminal/session-manager.ts';
import { requestAddress } from './client-address.ts';
import { createTerminalRoutes, type Identify } from './terminal-routes.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-terminal-limits-'));
let manager: TerminalManager;
let server: http.Server;
let base: string;
const leased: string[] = [];
const created: string[] = [];

beforeAll(async () => {
  manager = new TerminalManager({
    dataDir: path.join(root, 'data'),
    host: prepareSandboxHost(path.join(root, 'data')),
    spawnPty: spawnNodePty,
    // Where a cluster would be created; this test needs to know only that it was asked for.
    leaseCluster: async (owner) => {
      leased.push(owner);
      return null;
    },
  });
  // Learners by a test header; a request without one becomes a new learner.
  const identify = (async (req, options) => {
    const id = req.headers['x-learner'];
    if (id) return { id: String(id) };
    if (!options.create) return undefined;
    const fresh = `lrn_new${created.length}`;
    created.push(fresh);
    return { id: fresh, setCookie: `s=${fresh}` };
  }) as Identify;
  const limits = new ServerLimits({ ...loadConfig({}).limits, startsPerLearner: 2, startsPerAddress: 3 });
  const routes = createTerminalRoutes(manager, identify, () => false, async (req, learnerId) => limits.clusterStart({ learner: learnerId, address: requestAddress(req) }));
  server = http.createServer((req, res) => routes.handle(req, res) || res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  server?.close();
  await manager?.shutdown();
  rmSync(root, { recursive: true, force: true });
});

const open = (learner?: string, fresh = false) =>
  fetch(`${base}/api/terminal/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...(learner ? { 'x-learner': learner } : {}) }, body: JSON.stringify({ fresh }) });

describe('POST /api/terminal/session budgets', { timeout: 60_000 }, () => {
  it('spends a cluster start per new session only, and refuses past the budget before creating a learner or a session', async () => {
    expect((await open('lrn_a')).status).toBe(200);
    expect((await open('lrn_a')).status).toBe(200); // the live session again: free
    expect((await open('lrn_a', true)).status).toBe(200); // a fresh one: a second start
    const learnerOver = await open('lrn_a', true);
    expect(learnerOver.status).toBe(429);
    expect(await learnerOver.json()).toMatchObject({ error: expect.stringMatching(/^too many cluster starts by you: at most 2 in 10 minutes; try again in \d+ s$/) });

    expect((await open()).status).toBe(200); // a newcomer: the address's third
    const addressOver = await open();
    expect(addressOver.status).toBe(429);
    expect(Number(addressOver.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(addressOver.headers.get('set-cookie')).toBeNull();
    expect(await addressOver.json()).toMatchObject({ error: expect.stringContaining('from your address: at most 3 in 10 minutes'), retryAfterSeconds: expect.any(Number) });

    expect(created).toEqual(['lrn_new0']);
    expect(leased).toEqual(['lrn_a', 'lrn_a', 'lrn_new0']);
  });
});
