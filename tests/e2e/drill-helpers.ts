import { expect, type BrowserContext, type Page } from '@playwright/test';

/**
 * A facilitator creates a 20-minute drill from the lobby and opens its facilitator page; returns
 * that page and the link participants join by.
 */
export async function createDrill(facilitatorContext: BrowserContext): Promise<{ facilitator: Page; joinLink: string }> {
  const lobby = await facilitatorContext.newPage();
  await lobby.goto('/drills');
  await expect(lobby.getByLabel('Scenario', { exact: true })).toBeVisible({ timeout: 20_000 });
  await lobby.getByLabel('Duration (minutes)').fill('20');
  await lobby.getByRole('button', { name: 'Create the drill' }).click();
  await expect(lobby.getByTestId('drill-created')).toBeVisible({ timeout: 30_000 });
  const joinLink = (await lobby.getByTestId('drill-join-link').getAttribute('href'))!;
  const facilitatorLink = (await lobby.getByTestId('drill-facilitator-link').getAttribute('href'))!;
  const facilitator = await facilitatorContext.newPage();
  await facilitator.goto(facilitatorLink);
  await expect(facilitator.getByRole('heading', { level: 1 })).toBeVisible({ timeout: 20_000 });
  return { facilitator, joinLink };
}

/** Joins a drill as an Investigator and waits for the room. */
export async function joinAsInvestigator(page: Page, joinLink: string, name: string): Promise<void> {
  await page.goto(joinLink);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('radio', { name: 'Investigator' }).check();
  await page.getByRole('button', { name: 'Join the drill' }).click();
  await expect(page).toHaveURL(/\/drills\/[^/]+$/);
}
