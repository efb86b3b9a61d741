import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { createDrill, joinAsInvestigator } from './drill-helpers.ts';
import { solveL18 } from './lab-run-helpers.ts';
import { screen } from './terminal-helpers.ts';

// Issue 18, done when: "axe reports no violations in light and dark", for the lab workspace in
// every state a learner meets (before start, each tab, the keyboard help, the Reset question,
// failing feedback with a hint taken, the completion screen) and for the drill room as a
// participant sees it. Each state is scanned in the light theme, in the dark one from the
// system's preference (emulated), and in the dark one chosen in the header over a light system.

interface Mode {
  name: string;
  system: 'light' | 'dark';
  choice: 'system' | 'dark';
  dark: boolean;
}
const LIGHT: Mode = { name: 'light', system: 'light', choice: 'system', dark: false };
const DARK_SYSTEM: Mode = { name: 'dark (system)', system: 'dark', choice: 'system', dark: true };
const DARK_CHOSEN: Mode = { name: 'dark (chosen in the header)', system: 'light', choice: 'dark', dark: true };

/** axe's WCAG 2.0, 2.1 and 2.2 A and AA rules; each violation as its rule and selectors. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary?.split('\n').at(-1)?.trim() ?? ''})`).join(', ')}`);
}

/** The theme the page is painted in, from the page's own background. */
const paintedDark = (page: Page) =>
  page.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.documentElement).backgroundColor.match(/\d+/g)!.map(Number) as [number, number, number];
    return (r + g + b) / 3 < 128;
  });

async function setMode(page: Page, mode: Mode): Promise<void> {
  await page.emulateMedia({ colorScheme: mode.system });
  await page.getByLabel('Theme', { exact: true }).selectOption(mode.choice);
  expect(await paintedDark(page), mode.name).toBe(mode.dark);
}

/**
 * Scans `what` in each mode. A state that is a modal dialog is opened after the theme is set (the
 * header's select is inert under it) and closed again: `open` and `close`.
 */
async function scan(page: Page, what: string, modes: Mode[], open?: () => Promise<void>, close?: () => Promise<void>): Promise<void> {
  for (const mode of modes) {
    await setMode(page, mode);
    await open?.();
    expect(await violations(page), `${what}, ${mode.name}`).toEqual([]);
    await close?.();
  }
}

const ALL = [LIGHT, DARK_SYSTEM, DARK_CHOSEN];

test('the lab workspace in every state, light and dark: no axe violations', async ({ page }) => {
  test.setTimeout(1_200_000);
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto('/labs/l18');
  const start = page.getByRole('button', { name: 'Start the lab' });
  await expect(start).toBeVisible({ timeout: 30_000 });
  await scan(page, 'before start', ALL);

  await start.click();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 30_000 });
  await scan(page, 'running, Terminal tab', ALL);

  // A step with failing feedback and a hint taken (step 2 checked before any work).
  const contain = page.locator('#step-contain');
  const toggle = page.locator('#step-contain-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await contain.getByRole('button', { name: 'Check step 2' }).click();
  await expect(contain.locator('.criteria > li.missing').first()).toBeVisible({ timeout: 120_000 });
  await contain.locator('.hints summary').click();
  await contain.getByRole('button', { name: /^Show hint 1/ }).click();
  await expect(contain.locator('.hints')).toContainText('Hints (1 of 3 taken)', { timeout: 30_000 });
  // The failing criteria's details opened too, where a criterion has them.
  for (const details of await contain.locator('.criteria details.criterion-details').all()) await details.locator('summary').click();
  await scan(page, 'failing feedback and a hint', ALL);

  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await scan(
    page,
    'keyboard help',
    ALL,
    async () => {
      await page.getByRole('button', { name: /Keys/ }).click();
      await expect(help).toBeVisible();
    },
    async () => {
      await page.keyboard.press('Escape');
      await expect(help).toBeHidden();
    },
  );
  const reset = page.getByRole('dialog', { name: 'Reset this lab?' });
  await scan(
    page,
    'Reset confirmation',
    ALL,
    async () => {
      await page.getByRole('button', { name: 'Reset…' }).click();
      await expect(reset).toBeVisible();
    },
    async () => {
      await reset.getByRole('button', { name: 'Cancel' }).click();
      await expect(reset).toBeHidden();
    },
  );

  // The Audit log with results and an event open.
  await page.getByRole('tab', { name: 'Audit log' }).click();
  const audit = page.locator('#pane-audit');
  await audit.getByLabel('Query', { exact: true }).fill('objectRef.resource == "secrets" AND verb in ("get", "list")');
  await audit.getByRole('button', { name: 'Run query' }).click();
  await expect(audit.locator('.qp-status')).toContainText('lines scanned', { timeout: 60_000 });
  await audit.locator('#qp-time-0').click();
  await audit.getByLabel('Find in event', { exact: true }).fill('secrets');
  await expect(audit.locator('mark.qp-hit-current')).toBeVisible();
  await scan(page, 'Audit log with an event open', ALL);
  await audit.getByLabel('Query', { exact: true }).fill('verb == "list" | count by user.username');
  await audit.getByRole('button', { name: 'Run query' }).click();
  await expect(audit.locator('.qp-status')).toContainText(/\d+ rows? ·/, { timeout: 60_000 });
  await scan(page, 'Audit log with aggregation rows', [LIGHT, DARK_SYSTEM]);

  await page.getByRole('tab', { name: 'Notes' }).click();
  await page.getByLabel('Case notes').fill('Suspect: the web-app pod');
  await expect(page.getByTestId('notes-status')).toContainText('Saved', { timeout: 30_000 });
  await scan(page, 'Notes tab', ALL);

  // The whole lab solved (a second terminal would make the helpers' terminal ambiguous: later).
  await page.getByRole('tab', { name: 'Terminal', exact: true }).click();
  await solveL18(page);
  await page.reload();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 60_000 });
  const results = page.getByRole('region', { name: /Lab complete/ });
  // The step opened last (contain) stays open across the reload: open the last one.
  const last = page.locator('#step-eradicate-toggle');
  if ((await last.getAttribute('aria-expanded')) !== 'true') await last.click();
  await page.locator('#step-eradicate').getByRole('button', { name: /Check step 6/ }).click();
  await expect(results.getByRole('heading', { name: /Lab complete: score \d+%/ })).toBeFocused({ timeout: 180_000 });
  await scan(page, 'completion screen', ALL);

  await page.getByRole('tab', { name: 'Files' }).click();
  const files = page.locator('#pane-files');
  await files.getByRole('button', { name: 'Refresh' }).click();
  await files.getByRole('button', { name: 'audit-policy.yaml' }).click();
  await expect(files.locator('.lab-file-view pre')).toContainText('apiVersion: audit.k8s.io/v1');
  await scan(page, 'Files tab with a file open', ALL);

  await page.getByRole('tab', { name: 'Terminal 2' }).click();
  const second = page.locator('#pane-terminal2 section.terminal');
  await expect(second.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(second.locator('.xterm-rows')).toContainText('learner@irlab', { timeout: 30_000 });
  await scan(page, 'Terminal 2 tab', ALL);
});

test('the drill room as a participant, dark: no axe violations before and after the start, Audit log tab', async ({ browser }) => {
  test.setTimeout(600_000);
  const facilitatorContext = await browser.newContext();
  const participantContext = await browser.newContext({ colorScheme: 'dark' });
  try {
    const { facilitator, joinLink } = await createDrill(facilitatorContext);
    const page = await participantContext.newPage();
    await joinAsInvestigator(page, joinLink, 'Ada Dark');
    await expect(page.getByTestId('drill-terminal-locked')).toContainText('Locked until the drill clock starts');
    await scan(page, 'drill room before the start', [DARK_SYSTEM, DARK_CHOSEN]);

    await expect(facilitator.getByTestId('drill-cluster')).toContainText('Cluster ready', { timeout: 180_000 });
    await facilitator.getByRole('button', { name: 'Start the drill' }).click();
    await expect(page.getByTestId('drill-state')).toHaveText('Running', { timeout: 20_000 });
    const own = page.locator('.terminal:not([data-readonly])');
    await expect(own.getByTestId('terminal-status')).toContainText('Connected', { timeout: 90_000 });
    await expect(own.locator('.xterm-rows')).toContainText('$', { timeout: 30_000 });
    await scan(page, 'drill room running', [DARK_SYSTEM, DARK_CHOSEN]);

    await page.getByRole('tab', { name: 'Audit log' }).click();
    const pane = page.locator('#drill-pane-audit');
    await pane.getByLabel('Query', { exact: true }).fill('objectRef.resource == "secrets" AND verb in ("get", "list")');
    await pane.getByRole('button', { name: 'Run query' }).click();
    await expect(pane.locator('.qp-status')).toContainText('matching event', { timeout: 60_000 });
    await pane.locator('.qp-main table.qp-table tbody tr').first().getByRole('button').click();
    await expect(pane.locator('.qp-json pre')).toContainText('"requestURI"');
    await scan(page, 'drill room, Audit log tab with an event open', [DARK_SYSTEM, DARK_CHOSEN]);

    facilitator.on('dialog', (dialog) => void dialog.accept());
    await facilitator.getByRole('button', { name: 'End the drill' }).click();
    await expect(facilitator.getByTestId('drill-state')).toHaveText('Ended', { timeout: 30_000 });
  } finally {
    await participantContext.close();
    await facilitatorContext.close();
  }
});
