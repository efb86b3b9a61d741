import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { startPlatformSimulator, type PlatformSimulator } from '../integration/fixtures/lti-platform.ts';
import { startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

// The instructor's Deep Linking round trip in Chromium: the platform simulator starts the login,
// its auth page form-posts the id_token to irlab, irlab shows the picker (axe clean, light and
// dark, usable by keyboard alone), and the pick is posted back to the platform by the page's one
// hashed script under its own Content-Security-Policy (form-action to the platform only).
// Its own irlab server, registered with the simulator (the suite's shared server has no LTI).

let server: RealServer;
let sim: PlatformSimulator;
let dir: string;

test.describe.configure({ timeout: 120_000 });

test.beforeAll(async () => {
  sim = await startPlatformSimulator();
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-lti-e2e-'));
  const file = path.join(dir, 'platforms.json');
  await writeFile(file, JSON.stringify({ platforms: [{ name: 'Simulated Canvas', issuer: sim.issuer, clientId: sim.clientId, deploymentIds: [sim.deploymentId], authLoginUrl: sim.authLoginUrl, jwksUrl: sim.jwksUrl, tokenUrl: sim.tokenUrl }] }));
  server = await startRealServer({ IRLAB_LTI_PLATFORMS: file });
  sim.connectTool(server.base);
});

test.afterAll(async () => {
  await server?.stop();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function openPicker(page: Page): Promise<void> {
  const start = sim.initiateLogin({ style: 'moodle', messageType: 'LtiDeepLinkingRequest', targetLinkUri: `${server.base}/lti/launch`, user: { sub: 'teacher-1', name: 'Teacher', email: 't@example.edu' } });
  await page.goto(start.url);
  await expect(page.getByRole('heading', { level: 1, name: 'Add an irlab activity to your course' })).toBeVisible();
}

async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });
    test('the Deep Linking picker has no axe violations', async ({ page }) => {
      await openPicker(page);
      expect(await violations(page)).toEqual([]);
    });
  });
}

test('an instructor picks a lab by keyboard; the signed response reaches the platform', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    // Chromium reports a refused form action or script as a console error naming the policy.
    if (message.type() === 'error' && /Content Security Policy|Refused/i.test(message.text())) errors.push(message.text());
  });
  await openPicker(page);
  const lab = page.getByRole('checkbox', { name: 'Respond to a compromised web-app pod' });
  await lab.focus();
  await page.keyboard.press('Space');
  await expect(lab).toBeChecked();
  await page.getByRole('button', { name: 'Add to the course' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByText('The activity was added to the course.')).toBeVisible();
  expect(errors, 'no CSP violation on the way back').toEqual([]);
  const items = sim.deepLinkResponses.at(-1)!['https://purl.imsglobal.org/spec/lti-dl/claim/content_items'] as Array<{ custom: { activity: string } }>;
  expect(items.map((i) => i.custom.activity)).toEqual(['lab:l18']);
});
