// Headers on every answer, and Secure cookies only when the request came over HTTPS: a TLS socket,
// or X-Forwarded-Proto from a proxy the operator said to trust (IRLAB_TRUST_PROXY=1).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { applySecurityHeaders, DEFAULT_CSP, requestIsHttps, trustsProxy, validHost } from './security-headers.ts';

async function serve(trustProxy: boolean, headers: Record<string, string>): Promise<Headers> {
  const server = http.createServer((req, res) => {
    applySecurityHeaders(req, res, { trustProxy });
    // As Astro's adapter and our routes answer: everything in one writeHead.
    res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1; Path=/; HttpOnly', 'b=2; Secure'] });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers })).headers;
  } finally {
    server.close();
  }
}

describe('security headers', () => {
  it('go on every answer', async () => {
    const headers = await serve(false, {});
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('referrer-policy')).toBe('same-origin');
    expect(headers.get('content-security-policy')).toBe(DEFAULT_CSP);
    expect(DEFAULT_CSP).toContain("frame-ancestors 'none'");
  });

  it("add Secure to every cookie behind a trusted proxy's https, and ignore the header otherwise", async () => {
    expect((await serve(true, { 'x-forwarded-proto': 'https' })).getSetCookie()).toEqual(['a=1; Path=/; HttpOnly; Secure', 'b=2; Secure']);
    expect((await serve(false, { 'x-forwarded-proto': 'https' })).getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Secure']);
    expect((await serve(true, { 'x-forwarded-proto': 'http' })).getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Secure']);
  });

  it('trust the value the nearest proxy appended, and only when told to', () => {
    const req = (proto: string) => ({ socket: {}, headers: { 'x-forwarded-proto': proto } }) as unknown as http.IncomingMessage;
    expect(requestIsHttps(req('http, https'), true)).toBe(true);
    expect(requestIsHttps(req('https, http'), true)).toBe(false);
    expect(requestIsHttps(req('https'), false)).toBe(false);
    expect(trustsProxy({ IRLAB_TRUST_PROXY: '1' })).toBe(true);
    expect(trustsProxy({})).toBe(false);
  });

  it('accept host names and addresses as Host, and nothing else', () => {
    for (const host of ['localhost', 'localhost:4321', '127.0.0.1:80', '[::1]:4321', 'irlab.example.org', 'irlab.example.org.', 'a']) expect(validHost(host), host).toBe(true);
    for (const host of ['', '[', 'a b', '%zz', 'a:99999', 'a/b', 'a@b', '-a', ':80', 'x'.repeat(300)]) expect(validHost(host), host).toBe(false);
  });
});
