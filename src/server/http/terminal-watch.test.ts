// Watching a drill teammate's terminal over the real route: a real sandboxed shell, a real HTTP
// server and `ws` clients. Only the session's principal may attach; only learners `canWatch`
// allows may open `?watch=1`, and what a watcher types never reaches the shell.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeOutputFrame } from '../../lib/terminal-protocol.ts';
import { spawnNodePty } from '../terminal/node-pty-spawn.ts';
import { prepareSandboxHost } from '../terminal/sandbox-host.ts';
import { TerminalManager } from '../terminal/session-manager.ts';
import type { TerminalSession } from '../terminal/session.ts';
import { createTerminalRoutes, type Identify } from './terminal-routes.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-watch-test-'));
let manager: TerminalManager;
let server: http.Server;
let session: TerminalSession;
let base: string;

beforeAll(async () => {
  manager = new TerminalManager({ dataDir: path.join(root, 'data'), host: prepareSandboxHost(path.join(root, 'data')), spawnPty: spawnNodePty, leaseCluster: async () => null });
  // Learners by a test header; the drill service's canWatch is tested in src/server/drill.
  const identify = (async (req) => (req.headers['x-learner'] ? { id: String(req.headers['x-learner']) } : undefined)) as Identify;
  const routes = createTerminalRoutes(manager, identify, (learnerId, s) => s.group === 'drill:x' && ['lrn_owner', 'lrn_mate'].includes(learnerId));
  server = http.createServer((req, res) => routes.handle(req, res) || res.end());
  server.on('upgrade', (req, socket, head) => routes.upgrade(req, socket, head) || socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  session = await manager.open('d_x_p1', { cols: 80, rows: 24 }, { lease: async () => null, principal: 'lrn_owner', group: 'drill:x' });
}, 30_000);

afterAll(async () => {
  server?.close();
  await manager?.shutdown();
  rmSync(root, { recursive: true, force: true });
});

function open(learner: string, watch: boolean) {
  const ws = new WebSocket(`${base}/ws/terminal/${session.id}${watch ? '?watch=1' : ''}`, { headers: { 'x-learner': learner } });
  let output = '';
  const status = new Promise<number>((resolve) => {
    ws.on('open', () => {
      ws.send(JSON.stringify({ t: 'hello', v: 1, clientId: `${learner}-${watch ? 'w' : 'o'}-abcdef`, lastOutputSeq: 0, cols: 80, rows: 24 }));
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
  ws.on('message', (data, binary) => {
    if (binary) output += new TextDecoder().decode(decodeOutputFrame(new Uint8Array(data as Buffer))!.data);
  });
  return { ws, status, output: () => output };
}

const until = async (test: () => boolean) => {
  for (let i = 0; i < 750 && !test(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(test()).toBe(true);
};

describe('/ws/terminal/<id>?watch=1', { timeout: 60_000 }, () => {
  it('lets a teammate watch read-only and keeps everyone else out', async () => {
    expect(await open('lrn_outsider', true).status).toBe(403);
    expect(await open('lrn_mate', false).status).toBe(403); // a teammate cannot take the shell over

    const owner = open('lrn_owner', false);
    expect(await owner.status).toBe(101);
    owner.ws.send(JSON.stringify({ t: 'input', seq: 1, data: 'echo own""er-typed\r' }));
    await until(() => owner.output().includes('owner-typed'));

    const mate = open('lrn_mate', true);
    expect(await mate.status).toBe(101);
    await until(() => mate.output().includes('owner-typed')); // replay
    mate.ws.send(JSON.stringify({ t: 'input', seq: 1, data: 'echo mate""-typed\r' }));
    owner.ws.send(JSON.stringify({ t: 'input', seq: 2, data: 'echo li""ve\r' }));
    await until(() => mate.output().includes('live')); // live output
    expect(owner.output()).not.toContain('mate-typed');
    expect(mate.output()).not.toContain('mate-typed');
    owner.ws.close();
    mate.ws.close();
  });
});
