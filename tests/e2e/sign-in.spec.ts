import { expect, test, type Browser } from '@playwright/test';
import { violations } from './axe-helpers.ts';
import { becomeOperator, makeInstructor, newPage as pageOn, signIn, startSignInSite, type SignInSite } from './sign-in-helpers.ts';

// An instructor signs in through a local OpenID Connect provider (oidc-provider, its development
// login and consent pages) on a server of its own that offers sign-in: becomes the operator with
// the instructor token, makes a second signed-in person an instructor, who then reaches the
// instructor page without any token. /account has no axe violations in light and dark.

let site: SignInSite;

test.describe.configure({ timeout: 180_000 });

test.beforeAll(async () => {
  site = await startSignInSite();
});

test.afterAll(async () => {
  await site?.stop();
});

const newPage = (browser: Browser, colorScheme: 'light' | 'dark' = 'light') => pageOn(browser, site.server.base, colorScheme);

test('an operator made by the token makes another account an instructor, who reaches the instructor page signed in', async ({ browser }) => {
  const ada = await newPage(browser);
  await signIn(ada, 'ada', 'Ada Lovelace');
  await expect(ada.locator('[data-roles]')).toHaveText('learner');
  // Not an instructor yet: the instructor page asks for the token.
  await ada.goto('/instructor');
  await expect(ada.getByLabel('Instructor token')).toBeVisible();

  // The bootstrap: the token presented once on /account makes Ada the operator.
  await becomeOperator(ada, site.server.instructorToken);
  await expect(ada.locator('[data-roles]')).toHaveText('learner, operator');
  await ada.goto('/instructor');
  await expect(ada.getByRole('heading', { name: 'Quiz statistics' })).toBeVisible();

  // Grace signs in in another browser; Ada makes her an instructor.
  const grace = await newPage(browser);
  await signIn(grace, 'grace', 'Grace Hopper');
  await grace.goto('/instructor');
  await expect(grace.getByLabel('Instructor token')).toBeVisible();
  await makeInstructor(ada, 'Grace Hopper');
  await expect(ada.getByRole('row', { name: /Grace Hopper/ })).toContainText('grace@example.org');
  expect(await violations(ada)).toEqual([]);

  await grace.goto('/instructor');
  await expect(grace.getByRole('heading', { name: 'Quiz statistics' })).toBeVisible();
  // An instructor is not the operator: the accounts page stays closed to her.
  const accounts = await grace.goto('/instructor/accounts');
  expect(accounts?.status()).toBe(403);

  // Sign out from the header: the browser is anonymous again, the instructor page closed.
  await grace.getByRole('button', { name: 'Sign out' }).click();
  await expect(grace.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sign in' })).toBeVisible();
  await grace.goto('/instructor');
  await expect(grace.getByLabel('Instructor token')).toBeVisible();
});

for (const scheme of ['light', 'dark'] as const) {
  test(`/account signed in and signed out: no axe violations (${scheme})`, async ({ browser }) => {
    const page = await newPage(browser, scheme);
    await page.goto('/account');
    await expect(page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sign in' })).toBeVisible();
    expect(await violations(page)).toEqual([]);
    await signIn(page, 'alan', 'Alan Turing');
    await expect(page.getByLabel('Instructor token')).toBeVisible();
    expect(await violations(page)).toEqual([]);
  });
}
