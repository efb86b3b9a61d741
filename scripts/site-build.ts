/**
 * Whether the built site (dist/) is older than what it is built from, for `npm start` and the
 * benches that serve the built site: either rebuilds only when a source changed since.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** What the site is built from (package.json: the adapter's and Astro's settings live there too). */
const SOURCES = ['src', 'public', 'astro.config.ts', 'package.json', 'package-lock.json'];

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, name)));
  return newest;
}

/** `missing`: never built; `stale`: a source is newer than the build; `fresh`. */
export function siteBuildState(root: string): 'missing' | 'stale' | 'fresh' {
  const entry = path.join(root, 'dist/server/entry.mjs');
  if (!existsSync(entry)) return 'missing';
  const builtAt = statSync(entry).mtimeMs;
  return Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s)))) > builtAt ? 'stale' : 'fresh';
}
