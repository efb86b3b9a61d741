import { expect, type Browser, type Page } from '@playwright/test';

/**
 * A learner without an account joins a class in a browser of their own: the join code (typed in
 * lower case, as people do) and a name, then the class page with L18 assigned and not begun.
 * `baseURL`: the server, when it is not the suite's own.
 */
export async function joinClass(browser: Browser, { code, name, className, baseURL }: { code: string; name: string; className: string; baseURL?: string }): Promise<Page> {
  const page = await (await browser.newContext(baseURL ? { baseURL } : {})).newPage();
  await page.goto('/classes/join');
  await islandsHydrated(page);
  await page.getByLabel('Join code').fill(code.toLowerCase());
  await page.getByLabel(/Your name/).fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByTestId('rejoin-key')).toHaveText(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await page.getByRole('link', { name: 'Go to your class' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(className);
  await expect(page.locator('[data-assignment="lab:l18"]')).toContainText('0 of 6 steps passed');
  return page;
}

/**
 * Waits until every island on the page has hydrated (Astro drops `ssr` then), so that a click
 * reaches React's handler rather than the bare form (the join and new-class forms keep what was
 * typed before hydration: class-join-early.spec.ts).
 */
export async function islandsHydrated(page: Page): Promise<void> {
  await expect(page.locator('astro-island[ssr]')).toHaveCount(0, { timeout: 60_000 });
}
