/**
 * One copy of every server module in the process. Without this, Astro's build bundles its own
 * copy of each module a page or endpoint imports (the lab service's LabError, the store's
 * helpers...), next to the copy serve.ts runs from the sources: two classes per error, and any
 * module state twice. This Vite plugin keeps `src/server/**` out of the server bundle: the
 * built pages import those files from the source tree (Node 24 runs TypeScript) as
 * `#server/...` (package.json "imports"), the very modules serve.ts and the services use. Only
 * the server build is affected; the browser never imports server code (boundaries.test.ts).
 */
import path from 'node:path';
import type { Plugin } from 'vite';

export function serverModulesExternal(root: string): Plugin {
  const serverDir = path.join(root, 'src/server') + path.sep;
  return {
    name: 'irlab:server-modules-external',
    enforce: 'pre',
    apply: 'build',
    async resolveId(source, importer, options) {
      if (this.environment.name === 'client' || !importer || importer.startsWith(serverDir)) return null;
      if (!source.includes('server/')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (!resolved || resolved.external) return null;
      const file = resolved.id.split('?')[0]!;
      if (!file.startsWith(serverDir) || !file.endsWith('.ts')) return null;
      // A package import (package.json "imports"): Astro moves chunks after Rollup wrote them
      // (dist/server/.prerender/...), so a relative path would point nowhere, and an absolute one
      // would tie the build to this checkout's location.
      return { id: `#server/${path.relative(serverDir, file).split(path.sep).join('/')}`, external: true };
    },
  };
}
