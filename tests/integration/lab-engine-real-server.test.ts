// A lab that needs kind, on the real server process (serve.ts over the built site) whose labs run
// on the embedded engine: /labs and the lab's API say it needs kind and why; its page renders;
// Start is a 409 that says what, why and what to do, and no cluster is made. The content root is
// a fixture (the project's content plus a copy of L18 that asks for kind): the project ships no
// kind lab yet, and the e2e suite's server reads the project's content.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabView } from '../../src/lib/lab-view.ts';
import { contentRootWith, type ContentRoot } from '../unit/fixtures/content-root.ts';
import { engineChecked, startRealServer, type RealServer } from './hostile/real-server.ts';

let content: ContentRoot;
let server: RealServer;

beforeAll(async () => {
  content = await contentRootWith({ 'l18-on-kind': { from: 'l18', append: 'engine: kind\n' } });
  server = await startRealServer({ IRLAB_ROOT: content.root });
  await engineChecked(server);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await content?.remove();
}, 30_000);

describe('a kind lab where labs run on the embedded engine', () => {
  it('is listed and shown as needing kind, with the reason, beside labs on the embedded engine', async () => {
    const html = await (await fetch(`${server.base}/labs`)).text();
    // One catalog entry: from its data-lab to the next entry (or the end of the list).
    const entry = (slug: string) => {
      const start = html.indexOf(`data-lab="${slug}"`);
      expect(start, `/labs lists ${slug}`).toBeGreaterThan(0);
      const next = html.indexOf('data-lab="', start + 1);
      return html.slice(start, next < 0 ? html.indexOf('catalog-aside', start) : next);
    };
    expect(entry('l18-on-kind')).toContain('Needs kind');
    expect(entry('l18-on-kind')).toContain('this server runs labs on the embedded engine');
    expect(entry('l18-on-kind')).toContain('irlab engine build --kind');
    expect(entry('l18')).toContain('Embedded engine');
    expect(entry('l18')).not.toContain('cannot start');

    const page = await fetch(`${server.base}/labs/l18-on-kind`);
    expect(page.status).toBe(200);
    const view = (await (await fetch(`${server.base}/api/labs/l18-on-kind`)).json()) as LabView;
    expect(view.engine).toMatchObject({ engine: 'kind', badge: 'Needs kind', unavailable: { reason: 'needs the kind engine: real containers and enforced NetworkPolicy; this server runs labs on the embedded engine' } });
    expect(view.run).toBeUndefined();
  });

  it('refuses Start with a 409 that says what, why and what to do, and makes no cluster', async () => {
    const response = await fetch(`${server.base}/api/labs/l18-on-kind/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await response.json()) as { error: string };
    expect(response.status, body.error).toBe(409);
    expect(body.error).toMatch(/^the lab "l18-on-kind" cannot start on this server: it needs the kind engine: real containers and enforced NetworkPolicy; this server runs labs on the embedded engine\. Choose another lab on \/labs; an operator: .*irlab engine build --kind/);
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const view = (await (await fetch(`${server.base}/api/labs/l18-on-kind`, { headers: { cookie } })).json()) as LabView;
    expect(view.run).toBeUndefined();
    expect(server.output.join('\n')).not.toMatch(/warm pool: .* claimed|seeding/);
  });
});
