/**
 * What a page costs the browser: every HTTP response it received, as sent and as it would be sent
 * compressed. Shared by `npm run bench:pages` (figures) and tests/e2e/page-weight.spec.ts (the
 * budgets). Compressed sizes are computed here with node:zlib (gzip level 9, brotli quality 11,
 * what a build-time precompression gives) so the figures do not depend on what the server sends;
 * only text types are compressed (images and fonts count as they are).
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Page, Request } from '@playwright/test';

export interface Asset {
  url: string;
  /** Playwright's resource type: document, script, stylesheet, fetch, image... */
  type: string;
  contentType: string;
  /** Bytes on the wire as the server sent them: headers plus the (possibly encoded) body. */
  transferred: number;
  headers: number;
  /** Body sizes: decoded, and compressed here. */
  raw: number;
  gzip: number;
  brotli: number;
  /** An HTML page's inline `<script>` code (Astro's island loader, small scripts it inlines). */
  inlineScript: { raw: number; gzip: number; brotli: number };
}

export interface Totals {
  requests: number;
  /** As sent (headers included). */
  transferred: number;
  headers: number;
  /** Bodies only: decoded, gzip, brotli. A compressing server transfers `headers + brotli`. */
  raw: number;
  gzip: number;
  brotli: number;
}

export interface Weight {
  all: Totals;
  /** Script files plus the code of inline scripts (counted once more here, inside their page). */
  js: Totals;
  css: Totals;
}

const COMPRESSIBLE = /^(text\/|application\/(javascript|json|xml|manifest\+json)|image\/svg\+xml)/;

function compressed(body: Buffer, contentType: string): { gzip: number; brotli: number } {
  if (!COMPRESSIBLE.test(contentType) || body.length === 0) return { gzip: body.length, brotli: body.length };
  return {
    gzip: gzipSync(body, { level: 9 }).length,
    brotli: brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }).length,
  };
}

/** JavaScript by content type or by URL (a module chunk may be served as text/javascript or not). */
/** The code inside an HTML page's `<script>` elements that have no `src`. */
function inlineScripts(html: string): Buffer {
  const code = [...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1] ?? '');
  return Buffer.from(code.join('\n'));
}

export const isScript = (asset: Asset) => asset.type === 'script' || /javascript/.test(asset.contentType) || /\.m?js(\?|$)/.test(new URL(asset.url).pathname);
export const isStyle = (asset: Asset) => asset.type === 'stylesheet' || /text\/css/.test(asset.contentType);

/**
 * Records every finished request of `page` from now on (WebSocket frames are not requests and are
 * left out). `stop()` stops listening and waits until every body it was told about is read.
 */
export function recordAssets(page: Page): { assets: Asset[]; stop: () => Promise<Asset[]> } {
  const assets: Asset[] = [];
  const pending = new Set<Promise<void>>();
  const record = async (request: Request) => {
    const response = await request.response();
    if (!response) return;
    const sizes = await request.sizes();
    const body = await response.body().catch(() => Buffer.alloc(0));
    const contentType = response.headers()['content-type'] ?? '';
    const headers = sizes.responseHeadersSize;
    const packed = compressed(body, contentType);
    const inline = /text\/html/.test(contentType) ? inlineScripts(body.toString('utf8')) : Buffer.alloc(0);
    assets.push({
      url: request.url(),
      type: request.resourceType(),
      contentType,
      transferred: headers + sizes.responseBodySize,
      headers,
      raw: body.length,
      gzip: packed.gzip,
      brotli: packed.brotli,
      inlineScript: { raw: inline.length, ...compressed(inline, 'text/javascript') },
    });
  };
  const listener = (request: Request) => {
    const job = record(request).catch(() => {});
    pending.add(job);
    void job.finally(() => pending.delete(job));
  };
  page.on('requestfinished', listener);
  return {
    assets,
    stop: async () => {
      page.off('requestfinished', listener);
      while (pending.size > 0) await Promise.all([...pending]);
      return assets;
    },
  };
}

function total(assets: readonly Asset[]): Totals {
  const sum = (pick: (a: Asset) => number) => assets.reduce((n, a) => n + pick(a), 0);
  return {
    requests: assets.length,
    transferred: sum((a) => a.transferred),
    headers: sum((a) => a.headers),
    raw: sum((a) => a.raw),
    gzip: sum((a) => a.gzip),
    brotli: sum((a) => a.brotli),
  };
}

/** Totals for everything, for JavaScript alone (decoded script bytes) and for CSS. */
export function weigh(assets: readonly Asset[]): Weight {
  const files = total(assets.filter(isScript));
  const inline = assets.map((a) => a.inlineScript);
  const sum = (pick: (i: Asset['inlineScript']) => number) => inline.reduce((n, i) => n + pick(i), 0);
  const js = { ...files, raw: files.raw + sum((i) => i.raw), gzip: files.gzip + sum((i) => i.gzip), brotli: files.brotli + sum((i) => i.brotli) };
  return { all: total(assets), js, css: total(assets.filter(isStyle)) };
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)}`;
