import { expect, test, type Page } from '@playwright/test';
import { recordAssets, weigh, type Asset } from '../../bench/page-weight.ts';

// What a cold visit costs (docs/pages.md; `npm run bench:pages` prints the whole table). Each test
// has a fresh browser context, so an empty cache. Budgets are in KiB of JavaScript as decoded
// (script files plus inline scripts) and of everything compressed (headers + brotli/gzip bodies).
const LESSON = '/lessons/l18-audit-logging-incident-response';
const KIB = 1024;

async function load(page: Page, url: string, ready: (page: Page) => Promise<void>): Promise<Asset[]> {
  const recorder = recordAssets(page);
  await page.goto(url);
  await ready(page);
  await page.waitForLoadState('networkidle');
  return recorder.stop();
}

const files = (assets: Asset[]) => assets.map((a) => new URL(a.url).pathname);

test('a lesson page runs within 60 KB of JavaScript, and its quiz loads as it comes into view', async ({ page }) => {
  const assets = await load(page, LESSON, async (p) => {
    await expect(p.getByRole('navigation', { name: 'On this page' })).toBeVisible();
  });
  const { js } = weigh(assets);
  expect(js.raw, files(assets).join('\n')).toBeLessThanOrEqual(60 * KIB);

  // The table of contents still follows the reader without a framework.
  await page.getByRole('navigation', { name: 'On this page' }).getByRole('link', { name: 'Key takeaways' }).click();
  await expect(page.getByRole('navigation', { name: 'On this page' }).locator('a[aria-current="location"]')).toHaveText(/Key takeaways/);

  await page.locator('#quiz').scrollIntoViewIfNeeded();
  await expect(page.locator('#quiz').getByRole('button', { name: 'Start the quiz' })).toBeVisible({ timeout: 30_000 });
});

test('the lab page before Start loads neither the terminal nor the query code and stays within 250 KB compressed', async ({ page }) => {
  const assets = await load(page, '/labs/l18', async (p) => {
    await expect(p.getByRole('button', { name: 'Start the lab' })).toBeVisible({ timeout: 30_000 });
  });
  const loaded = files(assets);
  expect(loaded.filter((f) => /\/_astro\/(Terminal|QueryPanel)\.[\w-]+\.js$/.test(f))).toEqual([]);
  const { all, js } = weigh(assets);
  // xterm.js alone is some 380 KB decoded.
  expect(js.raw, loaded.join('\n')).toBeLessThan(300 * KIB);
  expect(all.headers + all.gzip).toBeLessThanOrEqual(250 * KIB);
  expect(all.headers + all.brotli).toBeLessThanOrEqual(250 * KIB);
});

test('sections read are marked in the table of contents on the next visit', async ({ page }) => {
  await page.goto(LESSON);
  const toc = page.getByRole('navigation', { name: 'On this page' });
  await toc.getByRole('link', { name: 'Detection signals' }).click();
  await expect(toc.locator('a[aria-current="location"]')).toHaveText(/Detection signals/);
  await page.goto(LESSON);
  await expect(toc.getByRole('link', { name: 'Detection signals (read)' })).toBeVisible();
});
