import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precompressDir } from './precompress.ts';
import { chooseEncoding, IMMUTABLE, REVALIDATE, staticFiles } from './static-files.ts';

let work: string;
let server: http.Server;
let port: number;
const script = `console.log(${JSON.stringify('irlab '.repeat(2000))});\n`;
const page = `<!doctype html><title>lesson</title>${'<p>reading</p>'.repeat(200)}`;
const CSP = "default-src 'self'; script-src 'self' 'sha256-abc'";

/** A raw request: the path is sent as written (fetch would normalise `..` away). */
function get(rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-static-'));
  const client = path.join(work, 'client');
  await mkdir(path.join(client, '_astro'), { recursive: true });
  await mkdir(path.join(client, 'lessons/intro'), { recursive: true });
  await mkdir(path.join(work, 'outside'));
  await writeFile(path.join(work, 'outside/secret.txt'), 'the answer key');
  await writeFile(path.join(client, '_astro/app.DxK3a9.js'), script);
  await writeFile(path.join(client, 'index.html'), page);
  await writeFile(path.join(client, 'lessons/intro/index.html'), page);
  await writeFile(path.join(client, 'favicon.svg'), '<svg/>');
  await writeFile(path.join(client, '.env'), 'SECRET=1');
  await symlink(path.join(work, 'outside/secret.txt'), path.join(client, 'linked.txt'));
  await symlink(path.join(work, 'outside'), path.join(client, 'linked-dir'));
  // The build step; the lesson page is left without siblings: compressed on first use instead.
  await precompressDir(path.join(client, '_astro'));
  await writeFile(path.join(work, '_headers.json'), JSON.stringify([{ pathname: '/lessons/intro', headers: [{ key: 'Content-Security-Policy', value: CSP }] }]));
  const files = staticFiles({ clientDir: client, headersFile: path.join(work, '_headers.json') });
  server = http.createServer((req, res) => {
    void files.handle(req, res).then((handled) => {
      if (handled) return;
      res.statusCode = 404;
      res.end('not a file of ours');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(work, { recursive: true, force: true });
});

describe('static files', () => {
  it('caches hashed assets for a year as immutable, compressed with brotli or gzip as accepted', async () => {
    const br = await get('/_astro/app.DxK3a9.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers).toMatchObject({ 'cache-control': IMMUTABLE, 'content-encoding': 'br', vary: 'Accept-Encoding', 'content-type': 'text/javascript; charset=utf-8' });
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(script.length / 10);
    expect(brotliDecompressSync(br.body).toString()).toBe(script);
    // The build's sibling, byte for byte: no compression at request time.
    expect(br.body.equals(readFileSync(path.join(work, 'client/_astro/app.DxK3a9.js.br')))).toBe(true);

    const gz = await get('/_astro/app.DxK3a9.js', { 'accept-encoding': 'br;q=0, gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(script);

    const plain = await get('/_astro/app.DxK3a9.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.toString()).toBe(script);
    // One ETag for every encoding of the same file: the representation varies, the file does not.
    expect(new Set([br, gz, plain].map((r) => r.headers.etag)).size).toBe(1);
  });

  it('serves a prerendered page under its three URLs, revalidated, with its own CSP', async () => {
    for (const url of ['/lessons/intro', '/lessons/intro/', '/lessons/intro/index.html', '/lessons/intro?from=home']) {
      const answer = await get(url, { 'accept-encoding': 'gzip' });
      expect(answer.status, url).toBe(200);
      expect(answer.headers, url).toMatchObject({ 'cache-control': REVALIDATE, 'content-security-policy': CSP, 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip' });
      expect(gunzipSync(answer.body).toString()).toBe(page);
    }
    const home = await get('/');
    expect(home.status).toBe(200);
    expect(home.body.toString()).toBe(page);
    expect(home.headers['content-security-policy']).toBeUndefined();
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await get('/favicon.svg');
    expect(first.headers['content-encoding']).toBeUndefined(); // too small to be worth compressing
    const again = await get('/favicon.svg', { 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const head = await get('/_astro/app.DxK3a9.js', { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  it('never serves a path outside the client directory, a dotfile or a symlink', async () => {
    for (const url of [
      '/../outside/secret.txt',
      '/_astro/../../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/_astro/%2E%2E/%2e%2e/outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/%2e%2e%5coutside%5csecret.txt',
      '/index.html%00.js',
      '/%00',
      '/linked.txt',
      '/linked-dir/secret.txt',
      '/.env',
      '/%2eenv',
      '//etc/passwd',
      '/%zz',
      // The build's compressed siblings are encodings of a file, not files.
      '/_astro/app.DxK3a9.js.br',
      '/_astro/app.DxK3a9.js.gz',
    ]) {
      const answer = await get(url);
      expect(answer.status, url).toBe(404);
      expect(answer.body.toString(), url).toBe('not a file of ours');
    }
  });

  it('leaves other methods to the next handler', async () => {
    expect((await get('/favicon.svg', {}, 'POST')).status).toBe(404);
  });
});

describe('chooseEncoding', () => {
  it('prefers brotli, honours q=0 and *, and falls back to identity', () => {
    expect(chooseEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(chooseEncoding('gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('*;q=0')).toBe('identity');
    expect(chooseEncoding(undefined)).toBe('identity');
    expect(chooseEncoding('identity')).toBe('identity');
  });
});
