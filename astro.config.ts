import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import react from '@astrojs/react';
import mdx from '@astrojs/mdx';
import { contentValidation } from './src/server/content/astro-integration.ts';

// Server output: lessons are prerendered, labs, quizzes and drills are live pages.
export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [contentValidation(), react(), mdx()],
  server: { port: Number(process.env.PORT ?? 4321), host: process.env.HOST ?? 'localhost' },
  markdown: {
    shikiConfig: { theme: 'github-dark-dimmed' },
  },
  devToolbar: { enabled: false },
});
