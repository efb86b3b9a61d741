import { expect, test } from '@playwright/test';
import { run, screen } from './terminal-helpers.ts';

const policy = (label: string) =>
  `echo '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"quarantine","namespace":"production"},"spec":{"podSelector":{"matchLabels":{"${label}":"true"}},"policyTypes":["Ingress","Egress"]}}' | kubectl apply -f -`;

// The L18 lab as a learner lives it: start a cluster of one's own, type real kubectl in the
// browser terminal, check a step, get a wrong policy explained, fix it, reload and find it all.
test('start the lab, contain the pod from the terminal, and keep it all across a reload', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/labs/l18');
  await page.getByRole('button', { name: 'Start the lab' }).click();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 30_000 });

  // Every check fails on the untouched world.
  const contain = page.locator('#step-contain');
  await contain.getByRole('button', { name: /Check step 2/ }).click();
  await expect(contain.locator('.criteria')).toContainText('no quarantine label');

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
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('payments-frontend', { timeout: 20_000 });
  await run(page, 'kubectl get networkpolicy -n production quarantine -o name');
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/quarantine', { timeout: 20_000 });

  // Hints cost points and are kept.
  await page.locator('#step-contain details.hints summary').click();
  await page.getByRole('button', { name: /Show hint 1/ }).click();
  await expect(page.locator('#step-contain details.hints')).toContainText('sourceIPs');
});

test('the lab page never ships solutions or answer keys', async ({ page, request }) => {
  await page.goto('/labs/l18');
  const api = await request.get('/api/labs/l18');
  const body = await api.text();
  for (const secret of ['solution', 'solutionAnswers', 'secretsRead', 'firstMaliciousAt', 'kubectl label pod']) expect(body).not.toContain(secret);
  expect(await page.content()).not.toContain('solution');
});
