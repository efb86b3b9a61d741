import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { CLIENT_ID, CLIENT_SECRET, startOidcProvider, type TestProvider } from '../integration/fixtures/oidc-provider.ts';
import { freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

// An instructor signs in through a local OpenID Connect provider (oidc-provider, its development
// login and consent pages) on a server of its own that offers sign-in: becomes the operator with
// the instructor token, makes a second signed-in person an instructor, who then reaches the
// instructor page without any token. /account has no axe violations in light and dark.

let server: RealServer;
let provider: TestProvider;

test.describe.configure({ timeout: 180_000 });

test.beforeAll(async () => {
  const providerPort = await freePort();
  server = await startRealServer({ IRLAB_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`, IRLAB_OIDC_CLIENT_ID: CLIENT_ID, IRLAB_OIDC_CLIENT_SECRET: CLIENT_SECRET });
  provider = await startOidcProvider(providerPort, [`${server.base}/auth/callback`]);
});

test.afterAll(async () => {
  await provider?.stop();
  await server?.stop();
});

/** Through the header's Sign in, the provider's login (any password) and consent, back to irlab. */
async function signIn(page: Page, login: string, name: string): Promise<void> {
  await page.goto(`${server.base}/account`);
  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(`${server.base}/account`);
  await expect(page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name })).toBeVisible();
}

async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const newPage = async (browser: Browser, colorScheme: 'light' | 'dark' = 'light') => (await browser.newContext({ colorScheme })).newPage();

test('an operator made by the token makes another account an instructor, who reaches the instructor page signed in', async ({ browser }) => {
  const ada = await newPage(browser);
  await signIn(ada, 'ada', 'Ada Lovelace');
  await expect(ada.locator('[data-roles]')).toHaveText('learner');
  // Not an instructor yet: the instructor page asks for the token.
  await ada.goto(`${server.base}/instructor`);
  await expect(ada.getByLabel('Instructor token')).toBeVisible();

  // The bootstrap: the token presented once on /account makes Ada the operator.
  await ada.goto(`${server.base}/account`);
  await ada.getByLabel('Instructor token').fill(server.instructorToken);
  await ada.getByRole('button', { name: 'Become the operator' }).click();
  await expect(ada.getByRole('status')).toHaveText(/You are the operator now/);
  await expect(ada.locator('[data-roles]')).toHaveText('learner, operator');
  await ada.goto(`${server.base}/instructor`);
  await expect(ada.getByRole('heading', { name: 'Quiz statistics' })).toBeVisible();

  // Grace signs in in another browser; Ada makes her an instructor.
  const grace = await newPage(browser);
  await signIn(grace, 'grace', 'Grace Hopper');
  await grace.goto(`${server.base}/instructor`);
  await expect(grace.getByLabel('Instructor token')).toBeVisible();
  await ada.goto(`${server.base}/instructor/accounts`);
  await ada.getByRole('button', { name: 'Make instructor: Grace Hopper' }).click();
  await expect(ada.getByRole('button', { name: 'Remove instructor: Grace Hopper' })).toBeVisible();
  await expect(ada.getByRole('row', { name: /Grace Hopper/ })).toContainText('grace@example.org');
  expect(await violations(ada)).toEqual([]);

  await grace.goto(`${server.base}/instructor`);
  await expect(grace.getByRole('heading', { name: 'Quiz statistics' })).toBeVisible();
  // An instructor is not the operator: the accounts page stays closed to her.
  const accounts = await grace.goto(`${server.base}/instructor/accounts`);
  expect(accounts?.status()).toBe(403);

  // Sign out from the header: the browser is anonymous again, the instructor page closed.
  await grace.getByRole('button', { name: 'Sign out' }).click();
  await expect(grace.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sign in' })).toBeVisible();
  await grace.goto(`${server.base}/instructor`);
  await expect(grace.getByLabel('Instructor token')).toBeVisible();
});

for (const scheme of ['light', 'dark'] as const) {
  test(`/account signed in and signed out: no axe violations (${scheme})`, async ({ browser }) => {
    const page = await newPage(browser, scheme);
    await page.goto(`${server.base}/account`);
    await expect(page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sign in' })).toBeVisible();
    expect(await violations(page)).toEqual([]);
    await signIn(page, 'alan', 'Alan Turing');
    await expect(page.getByLabel('Instructor token')).toBeVisible();
    expect(await violations(page)).toEqual([]);
  });
}
