import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import react from '@astrojs/react';
import mdx from '@astrojs/mdx';
import { contentValidation } from './src/server/content/astro-integration.ts';
import { serverModulesExternal } from './src/server/app/server-modules-external.ts';
import { precompressed } from './src/server/app/precompress.ts';

// Server output: lessons are prerendered, labs, quizzes and drills are live pages.
export default defineConfig({
  output: 'server',
  // Middleware mode: src/server/app/serve.ts owns the HTTP server, serves dist/client itself
  // (static-files.ts) and hands the services to Astro as `locals`. staticHeaders: prerendered
  // pages get their Content-Security-Policy as a header too (dist/server/_headers.json, sent by
  // static-files.ts; a <meta> cannot say frame-ancestors). bodySizeLimit: no endpoint takes more
  // than 1 MiB (serve.ts refuses a longer declared body with a 413 before Astro sees it).
  adapter: node({ mode: 'middleware', staticHeaders: true, bodySizeLimit: 1024 * 1024 }),
  security: {
    // Astro hashes the scripts it inlines (island hydration) into script-src. Styles allow
    // 'unsafe-inline': xterm.js and React set inline styles at run time, which hashes cannot cover.
    csp: {
      directives: ["default-src 'self'", "img-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"],
      styleDirective: { resources: ["'self'", "'unsafe-inline'"] },
    },
  },
  integrations: [contentValidation(), react(), mdx(), precompressed()],
  server: { port: Number(process.env.PORT ?? 4321), host: process.env.HOST ?? 'localhost' },
  markdown: {
    shikiConfig: { theme: 'github-dark-dimmed' },
  },
  devToolbar: { enabled: false },
  // Pages import src/server/** from the sources at run time: one copy of each module in the process.
  vite: { plugins: [serverModulesExternal(import.meta.dirname)] },
});
