import { expect, test, type Locator, type Page } from '@playwright/test';
import { client, podsByIP, QUARANTINE_POLICY, SECRET_LISTERS, WEB_APP_PODS } from './l18-commands.ts';
import { compromisedPod } from './lab-run-helpers.ts';

// Issue 18, done when: "a keyboard-only run of steps 2 and 4 (query panel included)". L18 on a
// real cluster with page.keyboard only, no click anywhere: Tab reaches every control (a control
// Tab cannot reach fails the test), the workspace's shortcuts (Alt+0 steps, Alt+1 terminal, Alt+3
// audit log) get in and out of the terminal, "Run in terminal" buttons and typed commands do the
// work, the Audit log tab's query box, Run query and event JSON give the findings. Nothing reads
// an answer key: the findings are read off the page, as a learner reads them.

const terminalRows = (page: Page) => page.locator('#pane-terminal .xterm-rows');
const isFocused = (target: Locator) => target.evaluate((el) => el === document.activeElement);

/** Presses Tab until `target` has focus; fails if `max` presses do not get there. */
async function tabTo(page: Page, target: Locator, max = 250): Promise<number> {
  await expect(target).toBeVisible({ timeout: 60_000 });
  await expect(target).toBeEnabled({ timeout: 60_000 });
  for (let presses = 0; presses <= max; presses++) {
    if (await isFocused(target)) return presses;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab did not reach ${target.toString()} in ${max} presses`);
}

/** Tabs to a button and presses Enter, waiting for the lab API's answer when one is named. */
async function activate(page: Page, target: Locator, action?: string): Promise<void> {
  await tabTo(page, target);
  const answered = action ? page.waitForResponse((r) => r.url().includes('/api/labs/') && r.url().endsWith(`/${action}`), { timeout: 180_000 }) : undefined;
  await page.keyboard.press('Enter');
  await answered;
}

/** Alt+1: the Terminal tab, focus in its shell. */
async function intoTerminal(page: Page): Promise<void> {
  await page.keyboard.press('Alt+1');
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#pane-terminal .terminal-screen') !== null)).toBe(true);
}

let commands = 0;
/** Types a command into the main shell (reached by Alt+1) and returns what it printed. */
async function typed(page: Page, command: string, timeout = 60_000): Promise<string> {
  await intoTerminal(page);
  commands += 1;
  const marker = `KEYS-${commands * 1000 + 9}`;
  await page.keyboard.type(`clear; ${command}; echo "KEYS-$((${commands}*1000+9))"`);
  await page.keyboard.press('Enter');
  await expect(terminalRows(page)).toContainText(marker, { timeout });
  const text = (await terminalRows(page).innerText()).replaceAll('\u00a0', ' ');
  return text.slice(0, text.indexOf(marker));
}

/**
 * Alt+3, Tab into the query box, the query typed over the old one, Tab to Run query, Enter; the
 * results are read off the page's table (headers → cells).
 */
async function query(page: Page, text: string): Promise<Array<Record<string, string>>> {
  await page.keyboard.press('Alt+3');
  const pane = page.locator('#pane-audit');
  await expect(pane).toBeFocused();
  const box = pane.getByLabel('Query', { exact: true });
  expect(await tabTo(page, box), 'the query box is the first stop after the pane').toBeLessThanOrEqual(1);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
  await expect(box).toHaveValue(text);
  await tabTo(page, pane.getByRole('button', { name: 'Run query' }), 5);
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/query'), { timeout: 60_000 });
  await page.keyboard.press('Enter');
  expect((await answered).status()).toBe(200);
  await expect(pane.locator('.qp-status')).toContainText('lines scanned', { timeout: 30_000 });
  const table = pane.locator('.qp-main table.qp-table').first();
  const headers = await table.locator('thead th').allInnerTexts();
  const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  return cells.map((row) => Object.fromEntries(headers.map((h, i) => [h.trim(), (row[i] ?? '').trim()])));
}

/** In the events table just queried: Tab to the row's time, Enter, and read the opened event's JSON. */
async function openEvent(page: Page, index: number): Promise<Record<string, unknown>> {
  const pane = page.locator('#pane-audit');
  await tabTo(page, pane.locator(`#qp-time-${index}`), 400);
  await page.keyboard.press('Enter');
  const json = pane.getByRole('region', { name: 'Event JSON' });
  await expect(json).toBeVisible();
  // Find in event, by keyboard too: the box is reachable and marks what it finds.
  await tabTo(page, json.getByLabel('Find in event', { exact: true }), 10);
  await page.keyboard.type('requestReceivedTimestamp');
  await expect(json.locator('mark.qp-hit-current')).toHaveText('requestReceivedTimestamp');
  return JSON.parse(await json.locator('pre').innerText()) as Record<string, unknown>;
}

test('a keyboard-only run of L18 steps 2 and 4, the query panel included', async ({ page }) => {
  test.setTimeout(600_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  // Fail on the first click: this test uses the keyboard only.
  await page.addInitScript(() => {
    window.addEventListener('click', (e) => {
      if (e.isTrusted && e.detail > 0) (window as unknown as { mouseClicks: number }).mouseClicks = ((window as unknown as { mouseClicks?: number }).mouseClicks ?? 0) + 1;
    }, true);
  });
  await page.goto('/labs/l18');

  // Start, from the top of the page by Tab.
  await activate(page, page.getByRole('button', { name: 'Start the lab' }), 'start');
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(terminalRows(page)).toContainText('learner@irlab', { timeout: 30_000 });

  // Step 2, opened by its heading: its "Run in terminal" button lists the pods and policies.
  await intoTerminal(page);
  await page.keyboard.press('Alt+0');
  await expect(page.locator('#pane-steps')).toBeFocused();
  const contain = page.locator('#step-contain');
  await activate(page, page.locator('#step-contain-toggle'));
  await expect(page.locator('#step-contain-toggle')).toHaveAttribute('aria-expanded', 'true');
  await activate(page, contain.getByRole('button', { name: /^Run in terminal: kubectl get pods -n production --show-labels/ }));
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect(terminalRows(page)).toContainText('web-app-', { timeout: 60_000 });
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#pane-terminal') !== null), { message: 'Run in terminal leaves focus in the shell' }).toBe(true);

  const podIPs = podsByIP(await typed(page, WEB_APP_PODS));
  expect(podIPs.size).toBe(2);
  const { identity, podIP, pod } = compromisedPod(podIPs, await query(page, SECRET_LISTERS));

  await typed(page, `kubectl label pod -n production ${pod} quarantine=true tier-`);
  await intoTerminal(page);
  await page.keyboard.type(QUARANTINE_POLICY);
  await page.keyboard.press('Enter');
  await expect(terminalRows(page)).toContainText('networkpolicy.networking.k8s.io/quarantine created', { timeout: 30_000 });

  // Out of the terminal by Alt+0, Tab to Check step 2.
  await page.keyboard.press('Alt+0');
  await expect(page.locator('#pane-steps')).toBeFocused();
  await activate(page, contain.getByRole('button', { name: 'Check step 2' }), 'check');
  await expect(contain.getByText('✓ done')).toBeVisible({ timeout: 60_000 });
  await expect(contain.locator('.criteria')).not.toContainText('✗');

  // Step 4: opened by its heading; its "Run in terminal" shows the bindings with their roles.
  const investigate = page.locator('#step-investigate');
  await activate(page, page.locator('#step-investigate-toggle'));
  await expect(page.locator('#step-investigate-toggle')).toHaveAttribute('aria-expanded', 'true');
  await activate(page, investigate.getByRole('button', { name: /^Run in terminal: kubectl get clusterrolebindings -o wide/ }));
  // The bindings scroll off the screen; the pods listed after them are the block's last output.
  await expect(terminalRows(page)).toContainText('NOMINATED NODE', { timeout: 60_000 });

  const secrets = (await query(page, `user.username == "${identity}" AND verb == "get" AND objectRef.resource == "secrets" AND responseStatus.code < 400 | count by objectRef.namespace, objectRef.name`)).map(
    (row) => `${row['objectRef.namespace']}/${row['objectRef.name']}`,
  );
  expect(secrets.length).toBeGreaterThan(0);
  // Unnamed creates are the audit-policy check's dry-run probes.
  const created = (await query(page, 'verb == "create" AND objectRef.resource == "clusterrolebindings" AND user.username == "system:serviceaccount:*" | count by user.username, objectRef.name')).filter((row) => row['objectRef.name']);
  expect(created).toHaveLength(1);
  const binding = created[0]!['objectRef.name']!;
  const role = (await typed(page, `kubectl get clusterrolebinding ${binding} -o custom-columns=ROLE:.roleRef.name --no-headers`)).trim().split('\n').at(-1)!.trim();
  expect(role).toMatch(/^[a-z][a-z0-9:-]*$/);

  // The exec: the event opened by keyboard, its requestURI read from the JSON.
  await query(page, `user.username == "${identity}" AND objectRef.subresource == "exec"`);
  const exec = await openEvent(page, 0);
  const command = new URL(String(exec.requestURI), 'https://api').searchParams.getAll('command').at(-1)!;
  expect(command).toBeTruthy();
  // Close (Tab, Enter) puts focus back on the row's time.
  await activate(page, page.locator('#pane-audit').getByRole('region', { name: 'Event JSON' }).getByRole('button', { name: 'Close' }));
  await expect(page.locator('#qp-time-0')).toBeFocused();

  const sources = [...new Set((await query(page, `user.username == "${identity}" | count by sourceIPs`)).map((row) => client(row.sourceIPs!)))];
  expect(sources).toContain(podIP);
  expect(sources.length).toBeGreaterThan(1);
  await query(page, `user.username == "${identity}" | sort requestReceivedTimestamp | head 1`);
  const first = String((await openEvent(page, 0)).requestReceivedTimestamp);

  // The answers, typed into the step's fields reached by Tab from the steps pane; then Check.
  await page.keyboard.press('Alt+0');
  await expect(page.locator('#pane-steps')).toBeFocused();
  const answers: Record<string, string> = {
    identity,
    secrets: secrets.join(', '),
    binding: `${binding} → ${role}`,
    'exec-command': command,
    'source-ips': sources.join(', '),
    'first-request': first,
  };
  for (const [name, value] of Object.entries(answers)) {
    const field = investigate.locator(`input[name="${name}"]`);
    await tabTo(page, field);
    await page.keyboard.type(value);
    await expect(field).toHaveValue(value);
  }
  await activate(page, investigate.getByRole('button', { name: 'Check step 4' }), 'check');
  await expect(investigate.getByText('✓ done')).toBeVisible({ timeout: 60_000 });
  await expect(investigate.locator('.criteria')).not.toContainText('✗');
  await expect(investigate.getByText('Score 100%')).toBeVisible();

  expect(await page.evaluate(() => (window as unknown as { mouseClicks?: number }).mouseClicks ?? 0), 'no mouse click').toBe(0);
});
