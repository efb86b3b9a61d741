import { expect, type Browser, type Page } from '@playwright/test';
import { CLIENT_ID, CLIENT_SECRET, startOidcProvider, type TestProvider } from '../integration/fixtures/oidc-provider.ts';
import { freePort, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

// Sign-in for the e2e specs: a server of the spec's own that offers sign-in through a real local
// OpenID Connect provider (oidc-provider, its development login and consent pages: any login,
// any password), and the ways through the UI a person takes: sign in, become the operator with
// the instructor token, make another account an instructor.

export interface SignInSite {
  server: RealServer;
  provider: TestProvider;
  /** Stops the provider, then the server (which ends its sessions and clusters on SIGTERM). */
  stop(): Promise<void>;
}

/** `env`: more settings for the server (e.g. what its labs need). */
export async function startSignInSite(env: Record<string, string> = {}): Promise<SignInSite> {
  const providerPort = await freePort();
  const server = await startRealServer({ IRLAB_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`, IRLAB_OIDC_CLIENT_ID: CLIENT_ID, IRLAB_OIDC_CLIENT_SECRET: CLIENT_SECRET, ...env });
  let provider: TestProvider;
  try {
    provider = await startOidcProvider(providerPort, [`${server.base}/auth/callback`]);
  } catch (failure) {
    await server.stop();
    throw failure;
  }
  return {
    server,
    provider,
    stop: async () => {
      await provider.stop();
      await server.stop();
    },
  };
}

/** A new browser (context) whose relative URLs go to `base`. */
export const newPage = async (browser: Browser, base: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> => (await browser.newContext({ baseURL: base, colorScheme })).newPage();

/** Through the header's Sign in, the provider's login (any password) and consent, back to /account. */
export async function signIn(page: Page, login: string, name: string): Promise<void> {
  await page.goto('/account');
  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name })).toBeVisible();
}

/** The bootstrap: the instructor token, presented once on /account, makes this account the operator. */
export async function becomeOperator(page: Page, instructorToken: string): Promise<void> {
  await page.goto('/account');
  await page.getByLabel('Instructor token').fill(instructorToken);
  await page.getByRole('button', { name: 'Become the operator' }).click();
  await expect(page.getByRole('status')).toHaveText(/You are the operator now/);
}

/** The operator makes the signed-in account shown as `name` an instructor on /instructor/accounts. */
export async function makeInstructor(operator: Page, name: string): Promise<void> {
  await operator.goto('/instructor/accounts');
  await operator.getByRole('button', { name: `Make instructor: ${name}` }).click();
  await expect(operator.getByRole('button', { name: `Remove instructor: ${name}` })).toBeVisible();
}
