import { defineConfig } from 'vitest/config';

// The kind engine's script tests (engine/kind/). Not a project of the root config, so `npm test`
// and CI do not run them yet: `npm run test:kind`. They need bash and jq, never Docker.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/kind/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
