import { expect, test, type Page } from '@playwright/test';
import { solveL18 } from './lab-run-helpers.ts';
import { run, screen } from './terminal-helpers.ts';

async function startLab(page: Page): Promise<string> {
  await page.goto('/labs/l18');
  await page.getByRole('button', { name: 'Start the lab' }).click();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  return clusterName(page);
}

async function clusterName(page: Page): Promise<string> {
  const status = await page.getByRole('status').first().innerText();
  return /Your cluster (\S+) is running/.exec(status)![1]!;
}

// The run's lifecycle as a learner meets it: the time left and Extend, case notes that survive a
// reload (the last keystrokes too), the terminal's files in the Files tab (hostile names shown as
// text), and Reset behind a dialog that cancels cleanly (Escape or Cancel) and, confirmed, gives
// a new cluster with the notes kept.
test('timer and Extend, notes across a reload, files from the terminal, Reset asks first', async ({ page }) => {
  test.setTimeout(300_000);
  const first = await startLab(page);

  const time = page.getByTestId('lab-time-left');
  await expect(time).toBeVisible();
  const before = Date.parse((await time.getAttribute('datetime'))!);
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/labs/l18/extend'), { timeout: 60_000 });
  await page.getByRole('button', { name: /^Extend by 30 min/ }).click();
  expect((await answered).status()).toBe(200);
  await expect.poll(async () => Date.parse((await time.getAttribute('datetime'))!) - before).toBe(30 * 60_000);
  await expect(time).toHaveText(/^2:2\d:\d\d$/);

  // Notes: saved after typing stops, and the last change is flushed as the page goes away.
  await page.getByRole('tab', { name: 'Notes' }).click();
  const notes = page.getByLabel('Case notes');
  await notes.fill('Suspect: web-app pod <b>not bold</b>');
  await expect(page.getByTestId('notes-status')).toContainText('Saved', { timeout: 30_000 });
  await notes.fill('Suspect: web-app pod <b>not bold</b>\nTyped just before the reload');
  await page.reload();
  await page.getByRole('tab', { name: 'Notes' }).click();
  await expect(page.getByLabel('Case notes')).toHaveValue('Suspect: web-app pod <b>not bold</b>\nTyped just before the reload', { timeout: 30_000 });

  // Files: what the shell writes, listed and shown read-only; a hostile name is text.
  await page.getByRole('tab', { name: 'Terminal', exact: true }).click();
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 30_000 });
  await run(page, `echo "evidence-$((6*7))" > e2e-evidence.txt; touch '<img src=x onerror=alert(1)>.txt'; echo written-$((2*3))`);
  await expect(screen(page)).toContainText('written-6', { timeout: 30_000 });
  await page.getByRole('tab', { name: 'Files' }).click();
  const files = page.locator('#pane-files');
  await files.getByRole('button', { name: 'Refresh' }).click();
  await files.getByRole('button', { name: 'e2e-evidence.txt' }).click();
  await expect(files.locator('.lab-file-view pre')).toHaveText('evidence-42\n');
  await expect(files.getByRole('button', { name: '<img src=x onerror=alert(1)>.txt' })).toBeVisible();
  await expect(files.locator('img')).toHaveCount(0);

  // Reset asks first: Escape and Cancel change nothing, focus comes back to Reset.
  const reset = page.getByRole('button', { name: 'Reset…' });
  const dialog = page.getByRole('dialog', { name: 'Reset this lab?' });
  await reset.click();
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(`Your cluster ${first}`);
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(reset).toBeFocused();
  await reset.click();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect(await clusterName(page)).toBe(first);

  await reset.click();
  await dialog.getByRole('button', { name: 'Reset and start again' }).click();
  await expect.poll(() => clusterName(page).catch(() => first), { timeout: 180_000 }).not.toBe(first);
  await page.getByRole('tab', { name: 'Notes' }).click();
  await expect(page.getByLabel('Case notes')).toHaveValue(/Typed just before the reload/, { timeout: 30_000 });
  // The shell reconnects on the new cluster; the workspace's files stayed.
  await page.getByRole('tab', { name: 'Terminal', exact: true }).click();
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Files' }).click();
  await files.getByRole('button', { name: 'Refresh' }).click();
  await expect(files.getByRole('button', { name: 'e2e-evidence.txt' })).toBeVisible();
  expect((await page.request.post('/api/labs/l18/reset', { data: {} })).status()).toBe(200);
});

// Every step solved for real (lab-run-helpers.ts: commands in the browser terminal, checks and
// queries through the page's own API calls), then the completion screen: focus moves to it,
// score by step, time, hints, checks, and what comes next; it can be closed and reopened.
test('the completion screen after the lab is solved', async ({ page }) => {
  test.setTimeout(900_000);
  await page.setViewportSize({ width: 1600, height: 1000 });
  await startLab(page);
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 30_000 });
  // One hint taken, so that the screen has one to count.
  expect((await page.request.post('/api/labs/l18/hint', { data: { step: 'contain', index: 0 } })).status()).toBe(200);
  const checks = await solveL18(page);
  // The page learns of the checks made through the API; its own last check completes the lab.
  await page.reload();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 60_000 });
  await expect(page.getByRole('region', { name: /Lab complete/ })).toHaveCount(0);
  // The last check from the page: the lab becomes complete here, and focus moves to the results.
  const results = page.getByRole('region', { name: /Lab complete/ });
  await page.locator('#step-eradicate').getByRole('button', { name: /Check step 6/ }).click();
  await expect(results.getByRole('heading', { name: /Lab complete: score \d+%/ })).toBeFocused({ timeout: 180_000 });
  await expect(results.getByRole('row')).toHaveCount(7);
  await expect(results).toContainText('Hints used1');
  await expect(results).toContainText(`Checks pressed${checks}`);
  await expect(results.getByRole('link', { name: /quiz|Quiz/ }).first()).toHaveAttribute('href', /^\/quizzes\//);
  await expect(results.getByRole('link', { name: 'Revoke a leaked CI token' })).toHaveAttribute('href', '/labs/leaked-ci-token');
  await results.getByRole('button', { name: 'Close results' }).click();
  await expect(results).toBeHidden();
  await expect(page.getByRole('button', { name: 'Show your lab results' })).toBeFocused();
  await page.getByRole('button', { name: 'Show your lab results' }).click();
  await expect(results.getByRole('heading', { name: /Lab complete/ })).toBeFocused();
  expect((await page.request.post('/api/labs/l18/reset', { data: {} })).status()).toBe(200);
});
