/**
 * dist/client served by us (the Node adapter's middleware mode serves no files): prerendered
 * pages with the adapter's URL rules (trailingSlash "ignore", build.format "directory":
 * `/x`, `/x/` and `/x/index.html` are one page) and their Content-Security-Policy from
 * dist/_headers.json; hashed `/_astro/*` assets cached for a year as immutable, everything else
 * revalidated (ETag); brotli or gzip as the client accepts: the build's precompressed siblings
 * (`.br`, `.gz`, precompress.ts), or, for a file without them, compressed once (faster) and kept.
 *
 * No path traversal by construction: the files are listed once at start (regular files only, no
 * symlinks, no dotfiles) and a request is a lookup in that list, never a path joined on disk.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { compress, COMPRESSIBLE, MIN_COMPRESS_BYTES, PRECOMPRESSED } from './precompress.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};
export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'public, max-age=0, must-revalidate';

type Encoding = 'br' | 'gzip' | 'identity';

interface Entry {
  file: string;
  type: string;
  compressible: boolean;
  immutable: boolean;
  mtime: Date;
  /** The page's own headers (its CSP), from dist/_headers.json. */
  headers: Array<{ key: string; value: string }>;
  /** Bodies and the ETag, read and compressed on first use, then kept. */
  bodies?: Promise<{ etag: string; identity: Buffer; br?: Buffer; gzip?: Buffer }>;
}

export interface StaticFiles {
  /** Answers the request and returns true when it names one of our files (GET or HEAD); false: not ours. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** URL paths served (tests, the boot line). */
  readonly paths: readonly string[];
}

function listFiles(dir: string, prefix: string, out: Map<string, string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Dotfiles stay private (as with the adapter); symlinks are never followed out of the tree.
    if (entry.name.startsWith('.') && !(prefix === '' && entry.name === '.well-known')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) listFiles(full, `${prefix}/${entry.name}`, out);
    else if (entry.isFile()) out.set(`${prefix}/${entry.name}`, full);
  }
}

/** Drops the build's compressed siblings from the URL list: `x.js.br` is an encoding of `x.js`, not a file. */
function dropSiblings(files: Map<string, string>): void {
  for (const urlPath of [...files.keys()]) {
    const base = Object.values(PRECOMPRESSED).reduce<string | undefined>((found, ext) => found ?? (urlPath.endsWith(ext) ? urlPath.slice(0, -ext.length) : undefined), undefined);
    if (base !== undefined && files.has(base)) files.delete(urlPath);
  }
}

/** The page path as _headers.json names it: no trailing slash, no index.html. */
function pagePath(urlPath: string): string {
  const trimmed = urlPath.replace(/\/index\.html$/, '').replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** The best encoding the client accepts (q > 0), preferring brotli. */
export function chooseEncoding(accept: string | undefined): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

/** A sibling written by the build for this very file (not older than it), or undefined. */
async function sibling(file: string, ext: string, mtime: Date): Promise<Buffer | undefined> {
  try {
    if (statSync(file + ext).mtimeMs < mtime.getTime()) return undefined;
    return await readFile(file + ext);
  } catch {
    return undefined;
  }
}

async function load(entry: Entry): Promise<{ etag: string; identity: Buffer; br?: Buffer; gzip?: Buffer }> {
  const identity = await readFile(entry.file);
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
  if (!entry.compressible || identity.length < MIN_COMPRESS_BYTES) return { etag, identity };
  const [br, gz] = await Promise.all([sibling(entry.file, PRECOMPRESSED.br, entry.mtime), sibling(entry.file, PRECOMPRESSED.gzip, entry.mtime)]);
  if (br || gz) return { etag, identity, ...(br ? { br } : {}), ...(gz ? { gzip: gz } : {}) };
  return { etag, identity, ...(await compress(identity, 'fast')) };
}

export function staticFiles(options: { clientDir: string; headersFile?: string; assetsDir?: string }): StaticFiles {
  const assetsPrefix = `/${options.assetsDir ?? '_astro'}/`;
  const files = new Map<string, string>();
  if (existsSync(options.clientDir)) listFiles(path.resolve(options.clientDir), '', files);
  dropSiblings(files);
  const pageHeaders = new Map<string, Array<{ key: string; value: string }>>();
  if (options.headersFile && existsSync(options.headersFile)) {
    for (const route of JSON.parse(readFileSync(options.headersFile, 'utf8')) as Array<{ pathname: string; headers: Array<{ key: string; value: string }> }>) {
      pageHeaders.set(pagePath(route.pathname), route.headers);
    }
  }
  const entries = new Map<string, Entry>();
  for (const [urlPath, file] of files) {
    const ext = path.extname(urlPath).toLowerCase();
    entries.set(urlPath, {
      file,
      type: TYPES[ext] ?? 'application/octet-stream',
      compressible: COMPRESSIBLE.has(ext),
      immutable: urlPath.startsWith(assetsPrefix),
      mtime: statSync(file).mtime,
      headers: ext === '.html' ? (pageHeaders.get(pagePath(urlPath)) ?? []) : [],
    });
  }

  function lookup(rawUrl: string): Entry | undefined {
    const pathname = rawUrl.split(/[?#]/, 1)[0] ?? '/';
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined; // malformed escapes: not a file of ours
    }
    if (!decoded.startsWith('/') || decoded.includes('\0')) return undefined;
    return entries.get(decoded) ?? entries.get(`${decoded.replace(/\/$/, '')}/index.html`);
  }

  return {
    paths: [...entries.keys()].sort(),
    async handle(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const entry = lookup(req.url ?? '/');
      if (!entry) return false;
      const bodies = await (entry.bodies ??= load(entry).catch((error: unknown) => {
        entry.bodies = undefined; // a file that went away is retried, not cached as broken
        throw error;
      }));
      const encoding = chooseEncoding(req.headers['accept-encoding'] as string | undefined);
      const body = encoding === 'identity' ? bodies.identity : (bodies[encoding] ?? bodies.identity);
      res.setHeader('Content-Type', entry.type);
      res.setHeader('Cache-Control', entry.immutable ? IMMUTABLE : REVALIDATE);
      res.setHeader('ETag', bodies.etag);
      res.setHeader('Last-Modified', entry.mtime.toUTCString());
      if (bodies.br || bodies.gzip) res.setHeader('Vary', 'Accept-Encoding');
      for (const header of entry.headers) res.setHeader(header.key, header.value);
      const match = req.headers['if-none-match'];
      if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bodies.etag)) {
        res.statusCode = 304;
        res.end();
        return true;
      }
      if (body !== bodies.identity) res.setHeader('Content-Encoding', encoding);
      res.setHeader('Content-Length', body.length);
      res.statusCode = 200;
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
