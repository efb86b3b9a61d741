// /drills on a server whose drills run on the embedded pool: the node-escape drill (its lab needs
// a real node) carries the engine badge a lab needing kind carries on /labs, says beside it why it
// cannot start here, and choosing it turns Create off with the reason and the operator's way out.
import { expect, test } from '@playwright/test';

test('a drill that needs kind is shown as unavailable here, with the reason, and cannot be created', async ({ page }) => {
  await page.goto('/drills');
  const scenario = page.getByLabel('Scenario', { exact: true });
  await expect(scenario).toBeVisible({ timeout: 20_000 });

  const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Drill: a privileged pod escapes to its node' }) });
  await expect(card.getByText('Needs kind')).toBeVisible();
  await expect(card.locator('p.drill-unavailable')).toHaveText('Cannot start on this server: it needs the kind engine: real containers and enforced NetworkPolicy; this server runs drills on the embedded engine.');
  await expect(card.getByText('This drill cannot start on this server:')).toBeHidden();
  // The badge opens with the keyboard, as on /labs.
  await card.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(card.getByText('This drill cannot start on this server:')).toBeVisible();

  // The first drill offered is one that can start here; choosing the kind one turns Create off.
  const create = page.getByRole('button', { name: 'Create the drill' });
  await expect(create).toBeEnabled();
  await scenario.selectOption('node-escape');
  await expect(create).toBeDisabled();
  await expect(create).toHaveAccessibleDescription(/This drill cannot start on this server: .*IRLAB_LAB_ENGINE=kind/);
});
