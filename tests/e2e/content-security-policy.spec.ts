import { expect, test, type Page } from '@playwright/test';
import { openTerminal, run, screen } from './terminal-helpers.ts';

// Every page runs under its Content-Security-Policy (script hashes from Astro, no inline script
// otherwise, no framing): nothing is blocked, and every island hydrates (Astro drops an island's
// `ssr` attribute once it has).
test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
});

const violations = (page: Page) => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

for (const target of ['/', '/lessons/l18-audit-logging-incident-response', '/quizzes/l18', '/labs/l18', '/drills', '/drills/join', '/progress']) {
  test(`${target} hydrates with nothing blocked`, async ({ page }) => {
    const response = await page.goto(target);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    // Islands that hydrate when seen (client:visible, the lesson's quiz) are brought into view.
    // (An island's own box is display: contents, so scroll to what it rendered.)
    for (const island of await page.locator('astro-island[client="visible"]').all()) {
      await island.locator(':scope > *').first().scrollIntoViewIfNeeded();
      await expect(island).not.toHaveAttribute('ssr');
    }
    await expect.poll(() => page.locator('astro-island[ssr]').count()).toBe(0);
    await page.waitForLoadState('networkidle');
    expect(await violations(page)).toEqual([]);
  });
}

test('the terminal (xterm.js styles, the WebSocket) works under the policy', async ({ page }) => {
  await openTerminal(page);
  await run(page, 'echo "csp-$((6*7))"');
  await expect(screen(page)).toContainText('csp-42');
  expect(await violations(page)).toEqual([]);
});
