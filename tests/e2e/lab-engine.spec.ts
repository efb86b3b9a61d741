import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';

// The engine a lab runs on, as a learner meets it: a badge on /labs and in the lab's header, its
// meaning one keypress away (a native disclosure), axe-clean open in both themes; on a phone the
// badge adds no height to the lab's header and its explanation does not widen the page.
// A `kind` lab (badge "Needs kind", Start disabled with the reason) is proven on a fixture content
// root in src/server/lab/lab-engine-fit.test.ts and tests/integration/lab-engine-real-server.test.ts:
// this suite's server reads the project's content, which ships no kind lab.

test.describe.configure({ timeout: 90_000 });

async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Opens a badge with the keyboard and checks what it explains about the embedded engine. */
async function openAndRead(page: Page, badge: ReturnType<Page['locator']>): Promise<void> {
  const summary = badge.locator('summary');
  await expect(summary).toHaveText(/Embedded engine/);
  await summary.focus();
  await page.keyboard.press('Enter');
  await expect(badge).toHaveAttribute('open', '');
  const body = badge.locator('.engine-badge-body');
  await expect(body).toBeVisible();
  await expect(body).toContainText('real kube-apiserver');
  await expect(body).toContainText(/audit log/);
  await expect(body).toContainText(/Pods \(simulated\)/);
  await expect(body).toContainText(/NetworkPolicy \(simulated\): stored and evaluated by the checks, not enforced/);
}

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });

    test('/labs shows every lab\'s engine and what it means', async ({ page }) => {
      await page.goto('/labs');
      const entries = page.locator('.catalog-entry');
      await expect(entries.first()).toBeVisible();
      const count = await entries.count();
      expect(count).toBeGreaterThan(0);
      await expect(page.locator('.catalog-entry .engine-badge')).toHaveCount(count);
      await openAndRead(page, page.locator('[data-lab="l18"] .engine-badge'));
      expect(await violations(page)).toEqual([]);
    });

    test('the lab page shows the engine in its header, and Start stays offered', async ({ page }) => {
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.goto('/labs/l18');
      await expect(page.getByRole('button', { name: 'Start the lab' })).toBeVisible({ timeout: 30_000 });
      await expect(page.locator('#lab-run-status')).not.toContainText('cannot start');
      await openAndRead(page, page.locator('.lab-header .engine-badge'));
      // Open, the explanation lies over the workspace: the page still does not scroll.
      expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(900);
      expect(await violations(page)).toEqual([]);
      await page.keyboard.press('Enter');
      await expect(page.locator('.lab-header .engine-badge-body')).toBeHidden();
    });
  });
}

test('on a phone the badge adds no height to the lab header and its explanation stays on screen', async ({ browser }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  try {
    const page = await phone.newPage();
    await page.goto('/labs/l18');
    await expect(page.getByRole('button', { name: 'Start the lab' })).toBeVisible({ timeout: 30_000 });
    const header = page.locator('.lab-header');
    const badge = header.locator('.engine-badge');
    await expect(badge).toBeVisible();
    const withBadge = (await header.boundingBox())!.height;
    await badge.locator('summary').tap();
    const body = badge.locator('.engine-badge-body');
    await expect(body).toBeVisible();
    const box = (await body.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect((await header.boundingBox())!.height, 'opening it does not push the workspace down').toBe(withBadge);
    // The same header without the badge: as tall as with it.
    await badge.evaluate((element) => element.remove());
    expect((await header.boundingBox())!.height).toBe(withBadge);
  } finally {
    await phone.close();
  }
});
