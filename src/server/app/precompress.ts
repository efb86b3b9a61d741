/**
 * Compresses dist/client once, at build time: `<file>.br` (brotli, quality 11) and `<file>.gz`
 * (gzip, level 9) beside every text file worth it, so the server spends no CPU on compression
 * (static-files.ts serves these, and compresses lazily, faster, only what a build left without).
 * Brotli at quality 11 takes about a second for the 400 KB terminal chunk on a loaded machine:
 * too slow for a learner's first request.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { AstroIntegration } from 'astro';

/** Extensions worth compressing (the rest are already compressed: images, fonts). */
export const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.xml', '.wasm']);
/** Below this, compression saves less than its headers cost. */
export const MIN_COMPRESS_BYTES = 1024;
export const PRECOMPRESSED = { br: '.br', gzip: '.gz' } as const;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export async function compress(body: Buffer, quality: 'best' | 'fast'): Promise<{ br?: Buffer; gzip?: Buffer }> {
  const [br, gz] = await Promise.all([
    brotli(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: quality === 'best' ? 11 : 5, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzipAsync(body, { level: quality === 'best' ? 9 : 6 }),
  ]);
  // A compressed body no smaller than the original is not worth an encoding.
  return { ...(br.length < body.length ? { br } : {}), ...(gz.length < body.length ? { gzip: gz } : {}) };
}

/** Writes the compressed siblings of every compressible file under `dir`; returns bytes before and after (brotli). */
export async function precompressDir(dir: string): Promise<{ files: number; bytes: number; brotliBytes: number }> {
  const totals = { files: 0, bytes: 0, brotliBytes: 0 };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.has(path.extname(entry.name).toLowerCase())) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await stat(file)).size < MIN_COMPRESS_BYTES) continue;
    const body = await readFile(file);
    const compressed = await compress(body, 'best');
    if (compressed.br) await writeFile(file + PRECOMPRESSED.br, compressed.br);
    if (compressed.gzip) await writeFile(file + PRECOMPRESSED.gzip, compressed.gzip);
    totals.files += 1;
    totals.bytes += body.length;
    totals.brotliBytes += compressed.br?.length ?? body.length;
  }
  return totals;
}

/** The build step: after Astro wrote dist/client. */
export function precompressed(): AstroIntegration {
  let client: string | undefined;
  return {
    name: 'irlab:precompress',
    hooks: {
      'astro:config:done': ({ config }) => {
        client = fileURLToPath(config.build.client);
      },
      'astro:build:done': async ({ logger }) => {
        if (!client) return;
        const started = Date.now();
        const { files, bytes, brotliBytes } = await precompressDir(client);
        logger.info(`${files} files precompressed (brotli ${Math.round(bytes / 1024)} KB → ${Math.round(brotliBytes / 1024)} KB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      },
    },
  };
}
