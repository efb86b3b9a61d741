import { expect, test } from '@playwright/test';
import { holdIsland } from './island-helpers.ts';
import { islandsHydrated } from './class-helpers.ts';
import { E2E_INSTRUCTOR_TOKEN } from './env.ts';

// What a learner types into the join form before its island has hydrated is kept: on a slow link
// people type the code while the page's script is still on its way (a controlled input got the
// server's empty value back at hydration, and the join failed with an empty code).

test('a join code and name typed before the form hydrates survive hydration and join', async ({ browser, request }) => {
  test.setTimeout(120_000);
  const created = await request.post('/api/classes', { headers: { authorization: `Bearer ${E2E_INSTRUCTOR_TOKEN}` }, data: { name: 'Early typists' } });
  expect(created.status()).toBe(201);
  const { joinCode } = (await created.json()) as { joinCode: string };

  const page = await (await browser.newContext()).newPage();
  // The island's own module is held back until the learner has typed.
  const release = await holdIsland(page, 'ClassJoin');
  await page.goto('/classes/join', { waitUntil: 'domcontentloaded' });
  await expect(page.locator('astro-island[ssr]')).toHaveCount(1);
  await page.getByLabel('Join code').fill(joinCode.toLowerCase());
  await page.getByLabel(/Your name/).fill('Quick Quinn');
  release();
  await islandsHydrated(page);
  await expect(page.getByLabel('Join code')).toHaveValue(joinCode.toLowerCase());
  await expect(page.getByLabel(/Your name/)).toHaveValue('Quick Quinn');
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByTestId('rejoin-key')).toHaveText(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
});
