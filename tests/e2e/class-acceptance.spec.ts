import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { INSTRUCTOR_COOKIE } from '../../src/server/instructors/token.ts';
import { axeBothThemes } from './axe-helpers.ts';
import { islandsHydrated, joinClass } from './class-helpers.ts';
import { AUDIT_POLICY } from './l18-commands.ts';
import { openStep, press, shell } from './lab-helpers.ts';
import { becomeOperator, makeInstructor, newPage, signIn, startSignInSite, type SignInSite } from './sign-in-helpers.ts';
import { run, screen } from './terminal-helpers.ts';

// Issue #20's acceptance test, end to end in Chromium, on a server of its own that offers sign-in
// through a local OpenID Connect provider. An operator (made by the instructor token, once, in the
// UI) makes two signed-in people instructors. The first signs in and, with no token, creates a
// class and assigns L18; two learners without accounts join by code and both work on L18: Bob
// passes step 1, Ana checks it undone and stays on it. The dashboard shows both without a reload,
// flags Ana once her failing step outlasts the class's threshold, and the instructor watches her
// terminal (Ana sees she is watched). The CSV, downloaded through the page's link, holds the
// dashboard's figures row for row. The second instructor sees neither the class nor its page.

const CLASS_NAME = 'Acceptance group';

let site: SignInSite;

test.describe.configure({ timeout: 900_000 });

// A server and provider per run, so that every repetition (--repeat-each) starts from nobody.
test.beforeEach(async () => {
  // What the suite's own server gets for labs (playwright.config.ts): the embedded engine, scenario
  // timelines in seconds, one address for every simulated learner.
  site = await startSignInSite({ IRLAB_PROVIDER: 'embedded', IRLAB_SCENARIO_TIME_SCALE: '0.002', IRLAB_LIMIT_STARTS_PER_ADDRESS: '500' });
});

test.afterEach(async () => {
  await site?.stop();
});

/** The dashboard table as the instructor reads it, one row per learner and step, in the CSV's columns. */
async function dashboardOnScreen(page: Page): Promise<string[][]> {
  const table = page.getByTestId('class-dashboard');
  // One lab assigned (L18): each step column belongs to it.
  await expect(table.locator('thead th[scope="colgroup"]')).toHaveCount(1);
  return table.evaluate((element) => {
    const text = (node: Element | null | undefined) => (node?.textContent ?? '').trim();
    const titles = [...element.querySelectorAll('thead tr:nth-child(2) th')].map((th) => text(th));
    return [...element.querySelectorAll('tbody tr')].flatMap((tr) => {
      const stuckOn = /^Stuck on (.+) for \d+ min$/.exec(text(tr.querySelector('[data-testid="stuck-badge"]')))?.[1];
      return [...tr.querySelectorAll('td[data-step]')].map((td, i) => {
        const figures = /^(\d+)% · (\d+) min · (\d+) hints? · (\d+) checks?$/.exec(text(td.querySelector('.class-figures')));
        if (!figures) throw new Error(`unreadable figures: ${text(td)}`);
        const [, score, minutes, hints, checks] = figures as unknown as [string, string, string, string, string];
        return [tr.getAttribute('data-learner') ?? '', 'lab', 'l18', td.getAttribute('data-step') ?? '', text(td.querySelector('.class-status')), score, minutes, hints, checks, stuckOn === titles[i] ? 'yes' : 'no'];
      });
    });
  });
}

/** The CSV through the dashboard's "Download CSV" link (the browser's download), as rows of cells. */
async function downloadedCsv(page: Page): Promise<{ header: string[]; rows: string[][] }> {
  const download = page.waitForEvent('download', { timeout: 60_000 });
  await page.getByRole('link', { name: 'Download CSV' }).click();
  const text = await readFile((await (await download).path())!, 'utf8');
  // No cell here holds a comma, quote or line break (names, step ids, figures): a plain split reads it.
  const [header = [], ...rows] = text.trimEnd().split('\r\n').map((line) => line.split(','));
  return { header, rows };
}

async function startL18(page: Page): Promise<void> {
  await page.goto('/labs/l18');
  await page.getByRole('button', { name: 'Start the lab' }).click();
}

async function whenRunning(page: Page): Promise<void> {
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 300_000 });
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 120_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 60_000 });
}

test('issue #20: a signed-in instructor runs a class of two on L18: live dashboard, stuck flag, watch, CSV, ownership', async ({ browser }) => {
  const base = site.server.base;

  // The operator (the instructor token, presented once in the UI) makes Grace and Alan instructors.
  const operator = await newPage(browser, base);
  await signIn(operator, 'ada', 'Ada Lovelace');
  await becomeOperator(operator, site.server.instructorToken);
  const grace = await newPage(browser, base);
  await signIn(grace, 'grace', 'Grace Hopper');
  const alan = await newPage(browser, base);
  await signIn(alan, 'alan', 'Alan Turing');
  await makeInstructor(operator, 'Grace Hopper');
  await makeInstructor(operator, 'Alan Turing');
  await operator.context().close();

  // Grace creates the class and assigns L18, signed in and with no token anywhere in her browser.
  await grace.goto('/instructor/classes');
  await islandsHydrated(grace);
  await grace.getByLabel('Class name').fill(CLASS_NAME);
  await grace.getByRole('button', { name: 'Create the class' }).click();
  const code = (await grace.getByTestId('join-code').innerText()).trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  const classId = decodeURIComponent(new URL(grace.url()).pathname.split('/').at(-1)!);
  await grace.getByLabel('Lab or quiz').selectOption('lab:l18');
  await grace.getByRole('button', { name: 'Assign' }).click();
  await expect(grace.locator('[data-assignment="l18"]')).toBeVisible();
  await expect(grace.getByTestId('class-empty')).toBeVisible();
  // Everything after this happens in this one document: a reload would drop the mark.
  await grace.evaluate(() => Object.assign(window, { dashboardNeverReloaded: true }));

  // The stuck threshold in seconds (the form takes minutes), through the API with Grace's session.
  expect((await grace.request.post(`/api/classes/${encodeURIComponent(classId)}`, { data: { action: 'stuck', seconds: 2 } })).status()).toBe(200);

  // Two learners without accounts join by code; both appear on the dashboard without a reload.
  const ana = await joinClass(browser, { code, name: 'Ana', className: CLASS_NAME, baseURL: base });
  const bob = await joinClass(browser, { code, name: 'Bob', className: CLASS_NAME, baseURL: base });
  const row = (name: string) => grace.locator(`tr[data-learner="${name}"]`);
  await expect(row('Ana')).toBeVisible({ timeout: 60_000 });
  await expect(row('Bob')).toBeVisible({ timeout: 60_000 });

  // Both start L18 (their clusters come up side by side).
  await startL18(ana);
  await startL18(bob);
  await whenRunning(ana);
  await whenRunning(bob);

  // Ana looks around, then checks step 1 without doing it: failing, and she stays on it.
  expect(await shell(ana, 'kubectl get namespace production -o name')).toContain('namespace/production');
  const anaStep = await openStep(ana, 'audit-policy');
  await press(ana, anaStep.getByRole('button', { name: 'Check step 1' }), 'check');
  await expect(anaStep.locator('.criteria')).toContainText('✗');

  // Bob writes the audit policy in his shell, applies it and passes step 1.
  await run(bob, AUDIT_POLICY);
  expect(await shell(bob, 'grep -c level: audit-policy.yaml')).toMatch(/^4$/m);
  await press(bob, bob.getByRole('button', { name: 'Apply audit-policy.yaml' }), 'apply-policy');
  await expect(bob.locator('.lab-error')).toHaveCount(0);
  const bobStep = await openStep(bob, 'audit-policy');
  await press(bob, bobStep.getByRole('button', { name: 'Check step 1' }), 'check');
  await expect(bobStep.getByText('✓ done')).toBeVisible({ timeout: 30_000 });

  // The dashboard, live: Ana failing and flagged as stuck, Bob past step 1 and not flagged.
  await expect(row('Ana').locator('[data-step="audit-policy"]')).toHaveAttribute('data-status', 'failing', { timeout: 60_000 });
  await expect(row('Ana')).toHaveAttribute('data-stuck', 'yes', { timeout: 60_000 });
  await expect(row('Ana').getByTestId('stuck-badge')).toContainText('Stuck on Turn on the audit trail');
  await expect(row('Bob').locator('[data-step="audit-policy"]')).toHaveAttribute('data-status', 'passed', { timeout: 60_000 });
  await expect(row('Bob').locator('[data-step="audit-policy"]')).toContainText('1 check');
  await expect(row('Bob')).toHaveAttribute('data-stuck', 'no');
  await expect(row('Bob').getByTestId('stuck-badge')).toHaveCount(0);

  // Grace watches Ana's terminal read-only; Ana's page says so; what Ana types shows; Bob is not watched.
  await grace.getByRole('button', { name: "Watch Ana's terminal" }).click({ timeout: 30_000 });
  const watched = grace.locator('.terminal[data-readonly]');
  await expect(watched.getByTestId('terminal-status')).toContainText('Watching', { timeout: 60_000 });
  await expect(ana.getByTestId('watched-indicator')).toBeVisible({ timeout: 60_000 });
  await run(ana, 'echo "typed-by-""ana"');
  await watched.scrollIntoViewIfNeeded(); // xterm draws only what is on screen
  await expect(watched.locator('.xterm-rows')).toContainText('typed-by-ana', { timeout: 60_000 });
  await expect(bob.getByTestId('watched-indicator')).toHaveCount(0);
  await axeBothThemes(grace);

  // The CSV from the page's link equals the dashboard on screen, row for row. Whole minutes may
  // tick between the two reads: the screen is read before and after, and must not have changed.
  await expect(async () => {
    const before = await dashboardOnScreen(grace);
    const csv = await downloadedCsv(grace);
    const after = await dashboardOnScreen(grace);
    expect(after).toEqual(before);
    expect(csv.header).toEqual(['learner', 'kind', 'activity', 'step', 'status', 'score_percent', 'minutes', 'hints', 'checks', 'stuck']);
    expect(csv.rows).toEqual(before);
  }).toPass({ timeout: 120_000 });
  const onScreen = await dashboardOnScreen(grace);
  expect(onScreen.filter((r) => r[0] === 'Ana' && r[9] === 'yes').map((r) => r[3])).toEqual(['audit-policy']);
  expect(onScreen.filter((r) => r[0] === 'Bob' && r[9] === 'yes')).toEqual([]);
  expect(await grace.evaluate(() => (window as unknown as { dashboardNeverReloaded?: boolean }).dashboardNeverReloaded)).toBe(true);
  // Grace never used the token: her browser holds no instructor-token cookie.
  expect((await grace.context().cookies()).map((c) => c.name)).not.toContain(INSTRUCTOR_COOKIE);

  // Alan, an instructor too, does not see Grace's class: not in his list, 404 by its address.
  await alan.goto('/instructor/classes');
  await expect(alan.getByRole('heading', { level: 1, name: 'Classes' })).toBeVisible();
  await expect(alan.getByText('No classes yet.')).toBeVisible();
  await expect(alan.getByRole('link', { name: CLASS_NAME })).toHaveCount(0);
  expect((await alan.goto(`/instructor/classes/${encodeURIComponent(classId)}`))?.status()).toBe(404);
  expect((await alan.request.get(`/api/classes/${encodeURIComponent(classId)}/dashboard.csv`)).status()).toBe(404);
  // Grace's own list has it (the same page, the other instructor).
  await grace.goto('/instructor/classes');
  await expect(grace.getByRole('link', { name: CLASS_NAME })).toBeVisible();

  // The learners' clusters go now rather than with the server.
  for (const learner of [ana, bob]) expect((await learner.request.post('/api/labs/l18/reset', { data: {}, timeout: 180_000 })).status()).toBe(200);
});
