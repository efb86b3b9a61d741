import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { E2E_INSTRUCTOR_TOKEN } from './env.ts';

// axe over every page of the site around the workspace, in the light and the dark theme, the dark
// one reached both ways a reader reaches it: the system's preference (emulated) and the header's
// theme choice (remembered in localStorage, so it holds on the next page too).

interface Target {
  path: string;
  /** What shows that the page is ready to be scanned (islands hydrated). */
  ready: (page: Page) => Promise<void>;
}

// A full-page axe run over the quiz's 37 questions takes many seconds on a loaded machine.
test.describe.configure({ timeout: 120_000 });

const heading = (page: Page) => expect(page.getByRole('heading', { level: 1 })).toBeVisible();
const TARGETS: Target[] = [
  { path: '/', ready: heading },
  { path: '/lessons/l18-audit-logging-incident-response', ready: heading },
  { path: '/labs', ready: heading },
  { path: '/quizzes', ready: heading },
  { path: '/instructor', ready: (page) => expect(page.getByLabel('Instructor token')).toBeVisible() },
  { path: '/instructor/classes', ready: (page) => expect(page.getByLabel('Instructor token')).toBeVisible() },
  { path: '/classes/join', ready: (page) => expect(page.getByLabel('Join code')).toBeVisible() },
  {
    // The questions as a learner sees them, not only the start button.
    path: '/quizzes/l18',
    ready: async (page) => {
      await page.getByRole('button', { name: /Start the quiz|Try again/ }).click();
      await expect(page.locator('[data-question]').first()).toBeVisible();
    },
  },
  { path: '/progress', ready: heading },
  { path: '/drills', ready: (page) => expect(page.locator('astro-island[ssr]')).toHaveCount(0) },
  // The join form, hydrated (its submit button is enabled then).
  { path: '/drills/join', ready: (page) => expect(page.getByRole('button', { name: 'Join the drill' })).toBeEnabled() },
  { path: '/labs/l18', ready: (page) => expect(page.getByRole('button', { name: 'Start the lab' })).toBeVisible({ timeout: 30_000 }) },
];

/** axe's WCAG 2.0, 2.1 and 2.2 A and AA rules; each violation as its rule and selectors. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The theme the page is painted in, from the page's own background. */
const paintedDark = (page: Page) =>
  page.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.documentElement).backgroundColor.match(/\d+/g)!.map(Number) as [number, number, number];
    return (r + g + b) / 3 < 128;
  });

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme from the system preference`, () => {
    test.use({ colorScheme: scheme });
    for (const target of TARGETS) {
      test(`${target.path}: no axe violations`, async ({ page }) => {
        await page.goto(target.path);
        await target.ready(page);
        expect(await paintedDark(page)).toBe(scheme === 'dark');
        expect(await violations(page)).toEqual([]);
      });
    }
  });
}

test.describe('the theme chosen in the header', () => {
  // The opposite of the system's preference, so the choice is what decides.
  test.use({ colorScheme: 'light' });

  test('dark, chosen once, holds on every page; no axe violations', async ({ page }) => {
    test.setTimeout(600_000);
    await page.goto('/');
    await page.getByLabel('Theme').selectOption('dark');
    expect(await paintedDark(page)).toBe(true);
    for (const target of TARGETS) {
      await page.goto(target.path);
      await target.ready(page);
      await expect(page.getByLabel('Theme')).toHaveValue('dark');
      expect(await paintedDark(page), target.path).toBe(true);
      expect(await violations(page), target.path).toEqual([]);
    }
  });

  test('the instructor index signed in: no axe violations in either theme', async ({ page }) => {
    await page.goto('/instructor');
    await page.getByLabel('Instructor token').fill(E2E_INSTRUCTOR_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Quiz statistics' })).toBeVisible();
    expect(await violations(page)).toEqual([]);
    await page.getByLabel('Theme').selectOption('dark');
    expect(await paintedDark(page)).toBe(true);
    expect(await violations(page)).toEqual([]);
  });
});

test.describe('no flash of the wrong theme', () => {
  test.use({ colorScheme: 'light' });

  test('a stored choice is on <html> before the body is parsed, and form controls follow it', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Theme').selectOption('dark');
    // Record the theme at the moment the parser inserts <body>: before anything is painted.
    await page.addInitScript(() => {
      const seen: Array<string | null> = [];
      (window as unknown as { themeAtBody: Array<string | null> }).themeAtBody = seen;
      // The script runs before <html> exists: watch the document.
      new MutationObserver((records, observer) => {
        if (!records.some((r) => [...r.addedNodes].some((n) => n.nodeName === 'BODY'))) return;
        seen.push(document.documentElement.getAttribute('data-theme'));
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    for (const path of ['/lessons/l18-audit-logging-incident-response', '/labs', '/quizzes/l18']) {
      await page.goto(path);
      expect(await page.evaluate(() => (window as unknown as { themeAtBody: Array<string | null> }).themeAtBody), path).toEqual(['dark']);
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), path).toBe('dark');
    }
    // "System" forgets the choice: the (light) preference rules again, on this page and the next.
    await page.getByLabel('Theme').selectOption('system');
    expect(await paintedDark(page)).toBe(false);
    await page.reload();
    await expect(page.getByLabel('Theme')).toHaveValue('system');
    expect(await paintedDark(page)).toBe(false);
  });
});

test.describe('the header on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('every section and the theme choice fit in 390 px and are reachable by keyboard', async ({ page }) => {
    for (const path of ['/', '/lessons/l18-audit-logging-incident-response', '/labs', '/quizzes/l18', '/progress', '/drills']) {
      await page.goto(path);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), path).toBe(0);
      const header = page.locator('.site-header');
      for (const name of ['Lessons', 'Labs', 'Quizzes', 'Drills', 'My progress']) {
        const link = header.getByRole('link', { name, exact: true });
        await expect(link).toBeInViewport({ ratio: 1 });
      }
      await expect(header.getByLabel('Theme')).toBeInViewport({ ratio: 1 });
    }
    // Tab order: skip link, brand, the five sections, the theme choice.
    await page.goto('/');
    const focused: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => (document.activeElement?.tagName === 'SELECT' ? document.activeElement.id : (document.activeElement?.textContent?.trim() ?? ''))));
    }
    expect(focused.slice(2)).toEqual(['Lessons', 'Labs', 'Quizzes', 'Drills', 'My progress', 'theme-choice']);
  });
});
