import { expect, test } from '@playwright/test';
import { axeBothThemes } from './axe-helpers.ts';
import { islandsHydrated } from './class-helpers.ts';
import { E2E_INSTRUCTOR_TOKEN } from './env.ts';

// An instructor says when a class runs and how many learners to expect, on the class page, by
// keyboard-reachable labelled fields; a number past the operator's bound is refused in words.

test('the class schedule is shown, saved, refused when past the bound, and cleared on the class page', async ({ browser, request }) => {
  test.setTimeout(180_000);
  const created = await request.post('/api/classes', { headers: { authorization: `Bearer ${E2E_INSTRUCTOR_TOKEN}` }, data: { name: 'Scheduled workshop' } });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  const page = await (await browser.newContext()).newPage();
  await page.goto('/instructor/classes');
  await page.getByLabel('Instructor token').fill(E2E_INSTRUCTOR_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await islandsHydrated(page);
  await page.goto(`/instructor/classes/${encodeURIComponent(id)}`);
  await islandsHydrated(page);
  const schedule = page.getByTestId('class-schedule');
  await expect(schedule.getByTestId('class-schedule-now')).toContainText('No schedule');

  // Two days ahead at 09:00 in the browser's zone (the server refuses a start more than a year ahead).
  const start = new Date(Date.now() + 2 * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  await schedule.getByLabel('Starts at').fill(`${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}T09:00`);
  await schedule.getByLabel('Runs for (minutes)').fill('90');
  await schedule.getByLabel('Learners expected').fill('100000');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await expect(schedule.getByRole('alert')).toContainText(/"expectedLearners" must be at most \d+/);

  await schedule.getByLabel('Learners expected').fill('40');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await expect(schedule.getByRole('status')).toHaveText('Schedule saved.');
  await expect(schedule.getByTestId('class-schedule-now')).toContainText('40 learner(s) expected', { timeout: 30_000 });
  await expect(schedule.locator('p.class-error')).toBeEmpty();
  const stored = await request.get(`/api/classes/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${E2E_INSTRUCTOR_TOKEN}` } });
  const body = (await stored.json()) as { schedule: { startsAt: string; endsAt: string; expectedLearners: number } };
  expect(body.schedule.expectedLearners).toBe(40);
  expect(Date.parse(body.schedule.endsAt) - Date.parse(body.schedule.startsAt)).toBe(90 * 60_000);
  await axeBothThemes(page);

  await schedule.getByRole('button', { name: 'Clear schedule' }).click();
  await expect(schedule.getByTestId('class-schedule-now')).toContainText('No schedule', { timeout: 30_000 });
});
