import { expect, type Locator, type Page } from '@playwright/test';
import { run, screen } from './terminal-helpers.ts';

let commands = 0;

/**
 * Runs a command in the browser terminal and returns what it printed, read off the screen the
 * way a learner reads it. The screen is cleared first; the end marker is computed by the shell
 * (`$((...))`), so the echoed command line never matches it. Keep the output shorter than the
 * screen: rows scrolled off the top are not read.
 */
export async function shell(page: Page, command: string, timeout = 60_000): Promise<string> {
  await showTerminal(page);
  commands += 1;
  const marker = `END-${commands * 1000 + 7}`;
  await run(page, `clear; ${command}; echo "END-$((${commands}*1000+7))"`);
  await expect(screen(page)).toContainText(marker, { timeout });
  const text = (await screen(page).innerText()).replaceAll('\u00a0', ' ');
  return text.slice(0, text.indexOf(marker));
}

/**
 * Brings the lab workspace's Terminal tab to the front (the Audit log tab hides the terminal);
 * a page without workspace tabs (/terminal) shows its terminal anyway.
 */
export async function showTerminal(page: Page): Promise<void> {
  const tab = page.getByRole('tab', { name: 'Terminal', exact: true });
  if ((await tab.count()) > 0 && (await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await expect(page.locator('.terminal-screen').first()).toBeVisible();
}

/** Presses a lab button and waits for the server's answer to the action it sends. */
export async function press(page: Page, button: Locator, action: string): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().includes(`/api/labs/`) && r.url().endsWith(`/${action}`), { timeout: 120_000 });
  await button.click();
  await answered;
}

/**
 * Opens a lab step (its heading is a disclosure; only the current step is open) and returns it.
 * A step already open stays open.
 */
export async function openStep(page: Page, id: string): Promise<Locator> {
  const toggle = page.locator(`#step-${id}-toggle`);
  if ((await toggle.getAttribute('aria-expanded', { timeout: 30_000 })) !== 'true') await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  return page.locator(`#step-${id}`);
}

export type ResultRow = Record<string, string>;

/**
 * Runs a query in the lab's audit-log query panel and reads the results table on the page: one
 * object per row, keyed by the column headers (aggregation columns, or the event table's
 * time/user/verb/resource/namespace/name/code/sourceIPs).
 */
export async function auditQuery(page: Page, query: string): Promise<ResultRow[]> {
  await page.getByRole('tab', { name: 'Audit log' }).click();
  const panel = page.locator('#pane-audit');
  await panel.getByLabel('Query', { exact: true }).fill(query);
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/query'), { timeout: 60_000 });
  await panel.getByRole('button', { name: 'Run query' }).click();
  await answered;
  await expect(panel.locator('.qp-status')).toContainText('lines scanned', { timeout: 30_000 });
  const table = panel.locator('.qp-main table.qp-table').first();
  const headers = await table.locator('thead th').allInnerTexts();
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  // Back to the terminal, as a learner would, so the next command has a screen to type on.
  await showTerminal(page);
  return rows.map((cells) => Object.fromEntries(headers.map((header, i) => [header.trim(), (cells[i] ?? '').trim()])));
}
