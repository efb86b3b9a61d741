import { expect, test } from '@playwright/test';
import { holdIsland } from './island-helpers.ts';
import { islandsHydrated } from './class-helpers.ts';
import { createDrill } from './drill-helpers.ts';

// What a participant types into the drill join form before its island has hydrated is kept and
// sent: the page is prerendered with the form in it, and on a slow link people type the code they
// were read out while the script is still on its way (the old form existed only once its script
// ran, and its controlled inputs would have dropped anything typed before hydration).

test('a drill code, name and role given before the join form hydrates survive hydration and join', async ({ browser }) => {
  test.setTimeout(300_000); // the drill gets a cluster of its own, on a machine that may be busy
  const { joinLink } = await createDrill(await browser.newContext());
  const code = new URL(joinLink).searchParams.get('code')!;
  expect(code).not.toBe('');

  const page = await (await browser.newContext()).newPage();
  // The island's own module is held back until the participant has typed.
  const release = await holdIsland(page, 'DrillJoin');
  // Told the code by voice: the bare join page, no link.
  await page.goto('/drills/join', { waitUntil: 'domcontentloaded' });
  await expect(page.locator('astro-island[ssr]')).toHaveCount(1);
  await page.getByLabel('Join code').fill(code.toLowerCase());
  await page.getByLabel('Your name').fill('Early Eve');
  await page.getByRole('radio', { name: 'Investigator' }).check();
  // Not hydrated yet: the button cannot submit the bare form (which would put the fields in the address).
  await expect(page.getByRole('button', { name: 'Join the drill' })).toBeDisabled();
  release();
  await islandsHydrated(page);
  await expect(page.getByLabel('Join code')).toHaveValue(code.toLowerCase());
  await expect(page.getByLabel('Your name')).toHaveValue('Early Eve');
  await expect(page.getByRole('radio', { name: 'Investigator' })).toBeChecked();
  await page.getByRole('button', { name: 'Join the drill' }).click();
  await expect(page).toHaveURL(/\/drills\/[^/?]+$/, { timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
});

test('from the join link, a name and role given before hydration are kept and the link fills the code', async ({ browser }) => {
  test.setTimeout(300_000);
  const { joinLink } = await createDrill(await browser.newContext());
  const code = new URL(joinLink).searchParams.get('code')!;

  const page = await (await browser.newContext()).newPage();
  const release = await holdIsland(page, 'DrillJoin');
  await page.goto(joinLink, { waitUntil: 'domcontentloaded' });
  await expect(page.locator('astro-island[ssr]')).toHaveCount(1);
  await page.getByLabel('Your name').fill('Linked Lin');
  await page.getByRole('radio', { name: 'Containment' }).check();
  release();
  await islandsHydrated(page);
  // The link's roles replace the usual ones; the pick made before is still the pick.
  await expect(page.getByRole('radio', { name: 'Scribe' })).toBeVisible();
  await expect(page.getByRole('radio', { name: 'Containment' })).toBeChecked();
  await expect(page.getByLabel('Join code')).toHaveValue(code);
  await expect(page.getByLabel('Your name')).toHaveValue('Linked Lin');
  await page.getByRole('button', { name: 'Join the drill' }).click();
  await expect(page).toHaveURL(/\/drills\/[^/?]+$/, { timeout: 30_000 });
});
