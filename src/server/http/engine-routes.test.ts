import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { EngineStatus } from '../../lib/engine-status.ts';
import { createEngineRoutes } from './engine-routes.ts';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A real HTTP server with the engine routes in front of a handler that answers 200 "passed". */
async function serve(status: EngineStatus, terminalNeedsEngine = true): Promise<string> {
  const routes = createEngineRoutes({ status: () => status, terminalNeedsEngine: () => terminalNeedsEngine });
  server = http.createServer((req, res) => {
    if (routes.handle(req, res)) return;
    res.end('passed');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const building: EngineStatus = { state: 'building', step: 1, steps: 4, what: 'building kube-apiserver', elapsedSeconds: 30, remainingSeconds: 600, fraction: 0.05 };

describe('engine routes', () => {
  it('answers GET /api/engine with the status', async () => {
    const base = await serve(building);
    const response = await fetch(`${base}/api/engine`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(building);
  });

  it('refuses a lab start or reset and a terminal session with a 503 and the progress while building', async () => {
    const base = await serve(building);
    for (const path of ['/api/labs/l18/start', '/api/labs/l18/reset', '/api/terminal/session']) {
      const response = await fetch(`${base}${path}`, { method: 'POST' });
      expect(response.status, path).toBe(503);
      expect(response.headers.get('retry-after')).toBe('10');
      expect(await response.json()).toEqual({
        error: 'The cluster engine is being built (step 1/4: building kube-apiserver; about 10 min left).',
        hint: expect.stringContaining('Start works once it is done'),
        engine: building,
      });
    }
    // What needs no new cluster passes.
    for (const [method, path] of [['POST', '/api/labs/l18/check'], ['GET', '/api/labs/l18'], ['GET', '/']]) {
      expect(await (await fetch(`${base}${path}`, { method })).text(), path).toBe('passed');
    }
  });

  it('says what failed and how to fix it after a failed build', async () => {
    const base = await serve({ state: 'failed', what: 'building etcd v3.6.16', message: 'go: no space left on device', hint: 'Fix what the message says, then run `irlab engine build`.' });
    const response = await fetch(`${base}/api/labs/l18/start`, { method: 'POST' });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'Building the cluster engine failed at "building etcd v3.6.16": go: no space left on device', hint: expect.stringContaining('irlab engine build') });
  });

  it('passes everything once the engine is ready, or when nobody builds it (the old answers stand)', async () => {
    for (const status of [{ state: 'ready' }, { state: 'missing', message: 'missing', hint: 'build it' }] as EngineStatus[]) {
      const base = await serve(status);
      expect(await (await fetch(`${base}/api/labs/l18/start`, { method: 'POST' })).text()).toBe('passed');
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it('lets a terminal session through when it needs no cluster from the engine', async () => {
    const base = await serve(building, false);
    expect(await (await fetch(`${base}/api/terminal/session`, { method: 'POST' })).text()).toBe('passed');
  });
});
