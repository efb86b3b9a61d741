// Issue 18: POST /api/terminal/session takes a `slot` (the lab page's second terminal). The real
// route and manager; the PTY is `cat`, since what runs in the shell is not the question here.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNodePty } from '../terminal/node-pty-spawn.ts';
import { prepareSandboxHost } from '../terminal/sandbox-host.ts';
import { TerminalManager } from '../terminal/session-manager.ts';
import { createTerminalRoutes, type Identify } from './terminal-routes.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-terminal-slots-'));
let manager: TerminalManager;
let server: http.Server;
let base: string;
const admitted: Array<string | undefined> = [];

beforeAll(async () => {
  const kubeconfig = path.join(root, 'kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts: [{name: lab, context: {cluster: lab, user: u}}]\nclusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\n');
  manager = new TerminalManager({
    dataDir: path.join(root, 'data'),
    host: prepareSandboxHost(path.join(root, 'data')),
    spawnPty: (_command, size) => spawnNodePty({ file: '/bin/cat', args: [], env: { PATH: '/usr/bin:/bin' } }, size),
    leaseCluster: async () => ({ name: 'lab-one', kubeconfigPath: kubeconfig, release: async () => {} }),
    wantedCluster: async () => 'lab-one',
  });
  const identify = (async (req) => ({ id: String(req.headers['x-learner']) })) as Identify;
  const routes = createTerminalRoutes(manager, identify, () => false, async (_req, learner) => (admitted.push(learner), undefined));
  server = http.createServer((req, res) => routes.handle(req, res) || res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  server?.close();
  await manager?.shutdown();
  rmSync(root, { recursive: true, force: true });
});

async function open(body: Record<string, unknown>): Promise<{ status: number; sessionId?: string; error?: string }> {
  const response = await fetch(`${base}/api/terminal/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-learner': 'ada' }, body: JSON.stringify(body) });
  return { status: response.status, ...((await response.json()) as { sessionId?: string; error?: string }) };
}

describe('POST /api/terminal/session with a slot', { timeout: 60_000 }, () => {
  it('keeps a shell per slot, replaces only the asked one on "fresh", and refuses a third', async () => {
    const first = await open({ cols: 80, rows: 24 });
    const second = await open({ cols: 80, rows: 24, slot: 2 });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.sessionId).not.toBe(first.sessionId);
    expect((await open({ slot: 1 })).sessionId).toBe(first.sessionId);
    expect((await open({ slot: 2 })).sessionId).toBe(second.sessionId);
    expect(admitted).toHaveLength(2); // a budget check per new shell, none for a reused one

    const freshSecond = await open({ slot: 2, fresh: true });
    expect(freshSecond.sessionId).not.toBe(second.sessionId);
    expect(manager.get(first.sessionId!)).toBeDefined();
    expect(manager.get(second.sessionId!)).toBeUndefined();
    expect(admitted).toHaveLength(3);

    for (const slot of [0, 3, '2', 1.5]) {
      const refused = await open({ slot });
      expect(refused.status).toBe(400);
      expect(refused.error).toMatch(/"slot" must be one of 1, 2/);
    }
    expect(manager.list().filter((s) => s.owner === 'ada')).toHaveLength(2);
  });
});
