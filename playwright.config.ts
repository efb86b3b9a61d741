import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { E2E_INSTRUCTOR_TOKEN } from './tests/e2e/env.ts';

// End-to-end tests drive Debian's Chromium against the built server (never a downloaded browser).
const port = Number(process.env.E2E_PORT ?? 4391);
// Each run gets an empty database; set here once so that workers (which reload this file) inherit it.
process.env.IRLAB_E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), 'irlab-e2e-'));
/** Settings the server under test takes from the environment that runs the tests. */
const passThrough = (names: string[]) => Object.fromEntries(names.filter((n) => process.env[n]).map((n) => [n, process.env[n] as string]));

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  globalTeardown: './tests/e2e/teardown.ts',
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
    command: 'node src/server/app/serve.ts',
    url: `http://127.0.0.1:${port}/`,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      IRLAB_DATA_DIR: process.env.IRLAB_E2E_DATA_DIR,
      IRLAB_INSTRUCTOR_TOKEN: E2E_INSTRUCTOR_TOKEN,
      // Every simulated learner comes from 127.0.0.1: the per-address start budget is sized for a
      // class behind one address (docs/security.md), not for the whole suite.
      IRLAB_LIMIT_STARTS_PER_ADDRESS: '500',
      // Scenario timelines spread over minutes of dwell time; the suite seeds them in seconds.
      IRLAB_SCENARIO_TIME_SCALE: process.env.IRLAB_SCENARIO_TIME_SCALE ?? '0.002',
      // Pinned: a machine with a Docker engine must not switch the suite to kind (IRLAB_PROVIDER overrides).
      IRLAB_PROVIDER: process.env.IRLAB_PROVIDER ?? 'embedded',
      ...passThrough(['IRLAB_TERMINAL_KUBECONFIG', 'IRLAB_TERMINAL_CLUSTER']),
    },
    reuseExistingServer: false,
    // SIGTERM lets the server end terminal sessions and delete their clusters before it exits.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    timeout: 30_000,
  },
});
