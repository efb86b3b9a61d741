// One composition root in the real built server (src/server/app/serve.ts over dist/): Astro's
// endpoints and irlab's own routes use the same service instances. Before, serve.ts ran the
// sources while Astro's bundle had its own copy of every module, so each copy kept its own
// budgets: a learner who had spent their cluster starts on labs (Astro) still got a terminal
// cluster (serve.ts). The engine cache is empty, so nothing here creates a cluster.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

const root = path.resolve(import.meta.dirname, '../..');
let work: string;
let server: RealServer;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-one-root-'));
  await mkdir(path.join(work, 'cache'));
  server = await startRealServer({
    IRLAB_CACHE: path.join(work, 'cache'),
    // Terminals without a lab would get a cluster of their own: they spend a cluster start.
    IRLAB_TERMINAL_CLUSTER: 'engine',
    IRLAB_PROVIDER: 'embedded',
    IRLAB_LIMIT_STARTS_PER_ADDRESS: '2',
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const post = (pathname: string, body: unknown, cookie?: string) =>
  fetch(`${server.base}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.base, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });

describe('one set of services for pages, endpoints and irlab routes', () => {
  it('counts cluster starts of labs (Astro endpoints) and terminals (serve.ts routes) in one budget', async () => {
    // Two lab starts spend the address's two starts; without an engine each fails as a
    // ClusterError: 503 with its reason (a lab error keeps its status, not a 500).
    const first = await post('/api/labs/l18/start', {});
    const cookie = first.headers.get('set-cookie')?.split(';')[0];
    const firstBody = (await first.json()) as { error?: string; hint?: string };
    expect(first.status, JSON.stringify(firstBody)).toBe(503);
    expect(firstBody.error).toBeTruthy();
    const second = await post('/api/labs/l18/start', {}, cookie);
    expect(second.status).toBe(503);
    // The terminal's own route (serve.ts) now refuses: the same ServerLimits counted both.
    const terminal = await post('/api/terminal/session', { cols: 80, rows: 24 }, cookie);
    const answer = (await terminal.json()) as { error?: string; retryAfterSeconds?: number };
    expect(terminal.status, JSON.stringify(answer)).toBe(429);
    expect(answer.error).toMatch(/too many cluster starts/);
    expect(terminal.headers.get('retry-after')).toBeTruthy();
  }, 60_000);

  it('answers an unknown lab with 404 and its reason, an unknown drill with its status', async () => {
    const lab = await post('/api/labs/no-such-lab/start', {});
    // The budget is spent (previous test): refused first. A read needs no budget.
    expect([404, 429]).toContain(lab.status);
    const view = await fetch(`${server.base}/api/labs/no-such-lab`);
    expect(view.status).toBe(404);
    expect(await view.json()).toEqual({ error: 'no lab "no-such-lab"' });
    const drill = await fetch(`${server.base}/api/drills/nope`);
    expect(drill.status).toBeGreaterThanOrEqual(400);
    expect(drill.status).toBeLessThan(500);
  });

  it('serves dist/client itself: hashed assets immutable and compressed, pages revalidated with their CSP', async () => {
    const asset = readdirSync(path.join(root, 'dist/client/_astro')).find((name) => name.endsWith('.js') && readFileSync(path.join(root, 'dist/client/_astro', name)).length > 4096)!;
    const response = await fetch(`${server.base}/_astro/${asset}`, { headers: { 'accept-encoding': 'br' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('vary')).toBe('Accept-Encoding');
    // fetch decodes brotli itself; the length on the wire is the compressed one.
    expect(Number(response.headers.get('content-length'))).toBeLessThan(readFileSync(path.join(root, 'dist/client/_astro', asset)).length);
    expect(await response.text()).toBe(readFileSync(path.join(root, 'dist/client/_astro', asset), 'utf8'));
    const lesson = await fetch(`${server.base}/lessons/l18-audit-logging-incident-response`);
    expect(lesson.status).toBe(200);
    expect(lesson.headers.get('cache-control')).toBe('public, max-age=0, must-revalidate');
    expect(lesson.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-/);
  });
});

describe('the server bundle', () => {
  it('holds no copy of a server module: pages import src/server/** from the sources', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
        else if (entry.name.endsWith('.mjs')) files.push(path.join(dir, entry.name));
      }
    };
    walk(path.join(root, 'dist/server'));
    const text = files.map((file) => readFileSync(file, 'utf8')).join('\n');
    // Strings only the lab service, the learner sessions and the drill service hold.
    expect(text).not.toContain('press Reset to get a new one');
    expect(text).not.toContain('terminals are for participants');
    expect(text).toContain('"#server/lab/http.ts"');
  });
});
