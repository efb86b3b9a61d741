import { expect, test } from '@playwright/test';
import { openStep } from './lab-helpers.ts';
import { run, screen } from './terminal-helpers.ts';

const policy = (label: string) =>
  `echo '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"quarantine","namespace":"production"},"spec":{"podSelector":{"matchLabels":{"${label}":"true"}},"policyTypes":["Ingress","Egress"]}}' | kubectl apply -f -`;

// The L18 lab as a learner lives it: start a cluster of one's own, type real kubectl in the
// browser terminal, check a step, get a wrong policy explained, fix it, reload and find it all.
test('start the lab, contain the pod from the terminal, and keep it all across a reload', async ({ page, context }) => {
  test.setTimeout(240_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/labs/l18');
  await page.getByRole('button', { name: 'Start the lab' }).click();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 30_000 });

  // The rail: every step not checked, the first one current and open, the others collapsed.
  const rail = page.getByRole('navigation', { name: 'Steps' });
  await expect(rail.getByRole('button')).toHaveCount(6);
  await expect(rail.locator('li[data-state="unchecked"]')).toHaveCount(6);
  await expect(rail.locator('[aria-current="step"]')).toHaveAccessibleName('Step 1: Turn on the audit trail, not checked, current');
  await expect(page.locator('#step-audit-policy-toggle')).toHaveAttribute('aria-expanded', 'true');
  await expect(page.locator('#step-contain-body')).toBeHidden();

  // The keyboard opens and closes a step from its heading; opening one makes it current.
  const toggle = page.locator('#step-contain-toggle');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(page.locator('#step-audit-policy-toggle')).toHaveAttribute('aria-expanded', 'false');
  await expect(rail.locator('[aria-current="step"]')).toHaveAccessibleName(/^Step 2: Contain the compromised pod/);
  await page.keyboard.press('Space');
  await expect(page.locator('#step-contain-body')).toBeHidden();
  await page.keyboard.press('Enter');
  await expect(page.locator('#step-contain-body')).toBeVisible();
  // Next and previous move between steps and put the focus on the step opened.
  await page.locator('#step-contain').getByRole('button', { name: /^Next step: Preserve the evidence/ }).click();
  await expect(page.locator('#step-evidence-toggle')).toBeFocused();
  await expect(page.locator('#step-contain-body')).toBeHidden();
  await page.locator('#step-evidence').getByRole('button', { name: /^← Previous step: Contain/ }).click();
  await expect(toggle).toBeFocused();

  // Copy on a command block of the step's text, announced; the whole block, no prompt.
  const contain = page.locator('#step-contain');
  await contain.getByRole('button', { name: 'Copy kubectl get pods -n production --show-labels' }).click();
  await expect(contain.getByRole('button', { name: 'Copied kubectl get pods -n production --show-labels' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('kubectl get pods -n production --show-labels\nkubectl get networkpolicies -n production');
  await expect(page.locator('.lab-steps-pane > [aria-live]')).toHaveText(/^Copied to the clipboard: kubectl get pods -n production --show-labels/);
  await expect(contain.getByRole('button', { name: 'Run in terminal: kubectl get pods -n production --show-labels' })).toBeEnabled();

  // Every check fails on the untouched world: the rail says so, failing criteria come first,
  // one line each with the rest behind a disclosure, and the passed ones are folded.
  await contain.getByRole('button', { name: /Check step 2/ }).click();
  await expect(contain.locator('.criteria')).toContainText('no quarantine label');
  await expect(rail.locator('li').nth(1)).toHaveAttribute('data-state', 'failing');
  await expect(contain.locator('.criteria > li').first()).toHaveClass(/missing/);
  await expect(contain.locator('.criteria > li').last()).toHaveClass(/passed-summary/);
  const passedSummary = contain.locator('.passed-summary details');
  await expect(passedSummary.locator('summary')).toHaveText(/1 passed/);
  await expect(passedSummary.getByText('the compromised pod still exists')).toBeHidden();
  await passedSummary.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(passedSummary.getByText('the compromised pod still exists')).toBeVisible();
  const folded = contain.locator('.criteria > li.missing details.criterion-details');
  await expect(folded.locator('summary')).toHaveText('the pod is not cut off');
  await expect(folded.locator('p')).toBeHidden();
  await folded.locator('summary').click();
  await expect(folded.locator('p')).toContainText('the pod is not cut off: ');

  await run(page, 'kubectl get pods -n production -o wide');
  await expect(screen(page)).toContainText('payments-frontend', { timeout: 20_000 });

  await run(page, 'kubectl label pods -n production -l app=web-app quarantine=true tier-');
  await run(page, policy('quarantined'));
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/quarantine', { timeout: 20_000 });
  await contain.getByRole('button', { name: /Check step 2/ }).click();
  await expect(contain.locator('.criteria')).toContainText('"quarantine" does not apply: it selects pods with quarantined=true');
  await expect(contain.getByText('✗ not yet')).toBeVisible();

  await run(page, policy('quarantine'));
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/quarantine configured', { timeout: 20_000 });
  await contain.getByRole('button', { name: /Check step 2/ }).click();
  await expect(contain.getByText('✓ done')).toBeVisible({ timeout: 20_000 });
  await expect(contain.locator('.criteria')).toContainText('no traffic in or out');

  await page.reload();
  await expect(page.locator('#step-contain').getByText('✓ done')).toBeVisible({ timeout: 30_000 });
  await expect(rail.locator('li').nth(1)).toHaveAttribute('data-state', 'done');
  // The step the learner had open is open again after the reload.
  await expect(page.locator('#step-contain-toggle')).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('payments-frontend', { timeout: 20_000 });
  await run(page, 'kubectl get networkpolicy -n production quarantine -o name');
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/quarantine', { timeout: 20_000 });

  // Hints cost points, are kept, and are rendered from their Markdown (code as code, no backticks).
  await openStep(page, 'contain');
  await page.locator('#step-contain details.hints summary').click();
  await page.getByRole('button', { name: /Show hint 1/ }).click();
  const hint = page.locator('#step-contain details.hints .hint-body').first();
  await expect(hint).toContainText('sourceIPs');
  await expect(hint.locator('code').first()).toHaveText('kubectl get pods -n production -o wide');
  await expect(hint).not.toContainText('`');
});

test('the lab page never ships solutions or answer keys', async ({ page, request }) => {
  await page.goto('/labs/l18');
  const api = await request.get('/api/labs/l18');
  const body = await api.text();
  for (const secret of ['solution', 'solutionAnswers', 'secretsRead', 'firstMaliciousAt', 'kubectl label pod']) expect(body).not.toContain(secret);
  expect(await page.content()).not.toContain('solution');
});
