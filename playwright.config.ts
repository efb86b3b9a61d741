import { defineConfig } from '@playwright/test';

// End-to-end tests drive Debian's Chromium against the built server (never a downloaded browser).
const port = Number(process.env.E2E_PORT ?? 4391);
/** Settings the server under test takes from the environment that runs the tests. */
const passThrough = (names: string[]) => Object.fromEntries(names.filter((n) => process.env[n]).map((n) => [n, process.env[n] as string]));

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [['list'], ['json', { outputFile: '.irlab/test-results/e2e.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'node src/server/http/serve.ts',
    url: `http://127.0.0.1:${port}/`,
    env: { PORT: String(port), HOST: '127.0.0.1', IRLAB_DATA_DIR: `.irlab/e2e-data-${port}`, ...passThrough(['IRLAB_TERMINAL_KUBECONFIG']) },
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
