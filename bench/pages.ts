/**
 * `npm run bench:pages`: what each page costs a browser with a cold cache. Builds the site when
 * the build is missing or older than its sources, starts the built server on a free port, loads
 * each page in Debian's Chromium (a new browser context per page: empty cache, no cookies) and
 * prints per page: requests, bytes as the server sent them, every body decoded and compressed
 * here (gzip -9, brotli -11: the figures do not depend on whether the server compresses), and the
 * same for JavaScript alone. Prints figures; asserts nothing. Method and results: docs/pages.md.
 *
 * Pages: the L18 lesson (then with its quiz scrolled into view), the L18 quiz, the L18 lab before
 * Start, after Start (a real cluster, on this machine's engine) and reloaded cold while running,
 * /drills and /terminal (a shell without a cluster: IRLAB_TERMINAL_CLUSTER=none).
 * Flags: --no-start (leave out the running lab: no cluster is created), --verbose (every asset).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { startBuiltServer } from './built-server.ts';
import { kb, recordAssets, weigh, isScript, type Asset } from './page-weight.ts';
import { siteBuildState } from '../scripts/site-build.ts';

const root = path.resolve(import.meta.dirname, '..');
const args = new Set(process.argv.slice(2));
const startLab = !args.has('--no-start');
const verbose = args.has('--verbose');
const LESSON = '/lessons/l18-audit-logging-incident-response';

function buildIfStale(): void {
  if (siteBuildState(root) === 'fresh') return;
  console.log('bench:pages: building the site (sources are newer than dist/)...');
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/astro/bin/astro.mjs'), 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('the build failed (see above); fix it, or run `npx astro build` to see the whole output');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Row {
  name: string;
  assets: Asset[];
}

/** Runs `action` (a load, a click) until its page is ready and the network is quiet: what came. */
async function measure(page: Page, name: string, action: (page: Page) => Promise<void>): Promise<Row> {
  const recorder = recordAssets(page);
  await action(page);
  await page.waitForLoadState('networkidle');
  return { name, assets: await recorder.stop() };
}

const rows: Row[] = [];
const cold = (browser: Browser, storageState?: Awaited<ReturnType<BrowserContext['storageState']>>) => browser.newContext({ storageState });

function print(): void {
  const pad = (text: string, width: number) => text.padStart(width);
  const header = `${'page'.padEnd(26)}${pad('req', 5)}${pad('sent', 9)}${pad('raw', 9)}${pad('gzip', 9)}${pad('br', 9)} |${pad('js', 4)}${pad('raw', 9)}${pad('gzip', 9)}${pad('br', 9)}`;
  console.log(`\nKB (1024 bytes). sent: as the server sent it, headers included. gzip/br: headers + every text body compressed here.`);
  console.log('JS: script files (count) plus inline <script> code, bodies only (decoded, gzip, br).');
  console.log('Rows marked + add to the row above (same page, same cache).\n');
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const row of rows) {
    const { all, js } = weigh(row.assets);
    console.log(
      `${row.name.padEnd(26)}${pad(String(all.requests), 5)}${pad(kb(all.transferred), 9)}${pad(kb(all.raw), 9)}${pad(kb(all.headers + all.gzip), 9)}${pad(kb(all.headers + all.brotli), 9)} |` +
        `${pad(String(js.requests), 4)}${pad(kb(js.raw), 9)}${pad(kb(js.gzip), 9)}${pad(kb(js.brotli), 9)}`,
    );
    if (verbose) {
      for (const asset of [...row.assets].sort((a, b) => b.raw - a.raw)) {
        console.log(`    ${new URL(asset.url).pathname.padEnd(48)}${pad(kb(asset.raw), 9)}${pad(kb(asset.gzip), 9)}${pad(kb(asset.brotli), 9)}${isScript(asset) ? '  js' : ''}${asset.inlineScript.raw ? `  (inline js ${kb(asset.inlineScript.raw)})` : ''}`);
      }
    }
  }
}

buildIfStale();
const port = await freePort();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'irlab-bench-pages-'));
const server = await startBuiltServer({
  root,
  port,
  dataDir,
  // No clusters made ahead of time: the bench creates at most the one its Start asks for.
  env: { IRLAB_TERMINAL_CLUSTER: 'none', IRLAB_WARM_POOL_SIZE: '0', IRLAB_LAB_PREPARED: '0', IRLAB_SCENARIO_TIME_SCALE: '0.002' },
  onLine: () => {},
});
const base = `http://127.0.0.1:${port}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
});
try {
  const button = (page: Page, name: string | RegExp) => page.getByRole('button', { name }).first().waitFor({ timeout: 60_000 });

  let context = await cold(browser);
  let page = await context.newPage();
  rows.push(
    await measure(page, 'lesson', async (p) => {
      await p.goto(base + LESSON);
      await p.getByRole('navigation', { name: 'On this page' }).waitFor();
    }),
  );
  rows.push(
    await measure(page, '+ quiz scrolled into view', async (p) => {
      await p.locator('#quiz').scrollIntoViewIfNeeded();
      await button(p, 'Start the quiz');
    }),
  );
  await context.close();

  context = await cold(browser);
  page = await context.newPage();
  rows.push(await measure(page, 'quiz', async (p) => (await p.goto(`${base}/quizzes/l18`), button(p, 'Start the quiz'))));
  await context.close();

  context = await cold(browser);
  page = await context.newPage();
  rows.push(await measure(page, 'lab, before Start', async (p) => (await p.goto(`${base}/labs/l18`), button(p, 'Start the lab'))));
  if (startLab) {
    try {
      rows.push(
        await measure(page, '+ Start (cluster, shell)', async (p) => {
          await p.getByRole('button', { name: 'Start the lab' }).click();
          await p.getByRole('status').filter({ hasText: 'is running' }).waitFor({ timeout: 300_000 });
          await p.getByTestId('terminal-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 120_000 });
        }),
      );
      const state = await context.storageState();
      const again = await cold(browser, state);
      rows.push(
        await measure(await again.newPage(), 'lab running, cold reload', async (p) => {
          await p.goto(`${base}/labs/l18`);
          await p.getByTestId('terminal-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 120_000 });
        }),
      );
      await again.close();
    } catch (error) {
      console.error(`bench:pages: the lab did not start (${(error as Error).message.split('\n')[0]}); the running-lab rows are left out. Is the engine built (\`npm run engine:build\`)?`);
    }
  }
  await context.close();

  context = await cold(browser);
  page = await context.newPage();
  rows.push(
    await measure(page, 'drills', async (p) => {
      await p.goto(`${base}/drills`);
      // Every island hydrated: Astro drops the `ssr` attribute then. (No waitForFunction: the
      // page's CSP refuses eval.)
      await p.locator('astro-island[ssr]').first().waitFor({ state: 'detached', timeout: 60_000 });
    }),
  );
  await context.close();

  context = await cold(browser);
  page = await context.newPage();
  rows.push(
    await measure(page, 'terminal', async (p) => {
      await p.goto(`${base}/terminal`);
      await p.locator('.terminal-screen .xterm').waitFor();
    }),
  );
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
print();
