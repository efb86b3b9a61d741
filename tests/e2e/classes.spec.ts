import { expect, test, type Browser } from '@playwright/test';
import { dashboardRows } from '../../src/lib/class-csv.ts';
import type { DashboardView } from '../../src/lib/class-view.ts';
import { axeBothThemes } from './axe-helpers.ts';
import { islandsHydrated, joinClass } from './class-helpers.ts';
import { E2E_INSTRUCTOR_TOKEN } from './env.ts';
import { run, screen } from './terminal-helpers.ts';

// An instructor runs a class in Chromium: creates it, assigns L18; two learners (two browser
// contexts) join with the code and a name; the dashboard shows both without a reload, flags the
// one whose failing check outlasts the class's threshold, and the instructor watches her terminal
// read-only and sees what she types, while her lab page says she is watched. axe in light and dark.

const join = (browser: Browser, code: string, name: string) => joinClass(browser, { code, name, className: 'E2E group' });

test('an instructor runs a class: join by code, a live dashboard, the stuck flag, a read-only watch, a message', async ({ browser }) => {
  test.setTimeout(600_000);
  const instructor = await (await browser.newContext()).newPage();
  await instructor.goto('/instructor/classes');
  await instructor.getByLabel('Instructor token').fill(E2E_INSTRUCTOR_TOKEN);
  await instructor.getByRole('button', { name: 'Sign in' }).click();
  await islandsHydrated(instructor);
  await instructor.getByLabel('Class name').fill('E2E group');
  await instructor.getByRole('button', { name: 'Create the class' }).click();
  const code = (await instructor.getByTestId('join-code').innerText()).trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  const classId = decodeURIComponent(new URL(instructor.url()).pathname.split('/').at(-1)!);
  await instructor.getByLabel('Lab or quiz').selectOption('lab:l18');
  await instructor.getByRole('button', { name: 'Assign' }).click();
  await expect(instructor.locator('[data-assignment="l18"]')).toBeVisible();
  await expect(instructor.getByTestId('class-empty')).toBeVisible();
  await axeBothThemes(instructor);

  // Two learners join; the dashboard shows them without a reload.
  const ana = await join(browser, code, 'Ana');
  await axeBothThemes(ana);
  const bob = await join(browser, code, 'Bob');
  const row = (name: string) => instructor.locator(`tr[data-learner="${name}"]`);
  await expect(row('Ana')).toBeVisible({ timeout: 30_000 });
  await expect(row('Bob')).toBeVisible({ timeout: 30_000 });

  // The threshold in seconds through the API (the form takes minutes): the test waits for no clock.
  expect((await instructor.request.post(`/api/classes/${classId}`, { data: { action: 'stuck', seconds: 2 } })).status()).toBe(200);

  // Ana starts L18 and checks step 1 before doing it: failing, then stuck.
  await ana.goto('/labs/l18');
  await ana.getByRole('button', { name: 'Start the lab' }).click();
  await expect(ana.getByRole('status').first()).toContainText('is running', { timeout: 180_000 });
  await expect(screen(ana)).toContainText('learner@irlab', { timeout: 60_000 });
  await ana.getByRole('button', { name: 'Check step 1' }).click();
  await expect(row('Ana').locator('[data-step="audit-policy"]')).toHaveAttribute('data-status', 'failing', { timeout: 30_000 });
  await expect(row('Ana')).toHaveAttribute('data-stuck', 'yes', { timeout: 30_000 });
  await expect(row('Ana').getByTestId('stuck-badge')).toContainText('Stuck on Turn on the audit trail');
  await expect(row('Bob')).toHaveAttribute('data-stuck', 'no');

  // The instructor watches Ana's terminal read-only; Ana's page says so; what she types shows.
  await instructor.getByRole('button', { name: "Watch Ana's terminal" }).click({ timeout: 30_000 });
  const watched = instructor.locator('.terminal[data-readonly]');
  await expect(watched.getByTestId('terminal-status')).toContainText('Watching', { timeout: 30_000 });
  await expect(ana.getByTestId('watched-indicator')).toBeVisible({ timeout: 30_000 });
  await run(ana, 'echo "typed-by-""ana"');
  await watched.scrollIntoViewIfNeeded(); // xterm draws only what is on screen
  await expect(watched.locator('.xterm-rows')).toContainText('typed-by-ana', { timeout: 30_000 });
  await expect(bob.getByTestId('watched-indicator')).toHaveCount(0);
  await axeBothThemes(instructor);

  // A message to Ana, shown on her lab page as text, dismissable.
  await instructor.getByRole('button', { name: 'Message Ana' }).click();
  await instructor.getByLabel('Message text').fill('<b>Read step 1 again</b>');
  await instructor.getByRole('button', { name: 'Send' }).click();
  const notice = ana.getByTestId('class-notice');
  await expect(notice).toContainText('<b>Read step 1 again</b>', { timeout: 30_000 });
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toHaveCount(0);

  // The CSV has the dashboard's figures.
  const view = (await (await instructor.request.get(`/api/classes/${classId}/dashboard`)).json()) as DashboardView;
  const csv = await (await instructor.request.get(`/api/classes/${classId}/dashboard.csv`)).text();
  const lines = csv.trimEnd().split('\r\n').slice(1);
  const expected = dashboardRows(view).map((r) => r.map((c) => (c === null ? '' : String(c))).join(','));
  // Minutes may tick between the two reads; everything else is equal.
  const withoutMinutes = (line: string) => line.split(',').toSpliced(6, 1).join(',');
  expect(lines.map(withoutMinutes)).toEqual(expected.map(withoutMinutes));

  expect((await ana.request.post('/api/labs/l18/reset', { data: {}, timeout: 120_000 })).status()).toBe(200);
});
