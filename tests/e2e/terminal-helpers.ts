import { expect, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';

/** Opens /terminal and waits until the shell's prompt is on screen. */
export async function openTerminal(page: Page): Promise<void> {
  await page.goto('/terminal');
  // A session starts with a fresh cluster of its own: a few seconds on a busy machine.
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 20_000 });
}

export function screen(page: Page) {
  return page.locator('.terminal-screen .xterm-rows');
}

/** Types a command line into the terminal the way a person does: focus, keys, Enter. */
export async function run(page: Page, command: string): Promise<void> {
  await page.locator('.terminal-screen').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/** The whole scrollback as plain text, through the island's "Save transcript" download. */
export async function transcript(page: Page): Promise<string> {
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save transcript' }).click();
  const file = await (await download).path();
  return readFile(file, 'utf8');
}
