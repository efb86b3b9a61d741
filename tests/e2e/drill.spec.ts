import AxeBuilder from '@axe-core/playwright';
import { expect, test, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// A tabletop drill as a team lives it, in three browser contexts against the real server and a
// real drill cluster: a facilitator creates it, two participants join (their terminals locked
// until the clock starts) and start working, the
// clock is fast-forwarded past the escalation (the pod is not contained, so the attacker acts),
// one participant contains the pod with kubectl typed in their terminal, the other sees it live,
// the investigator queries the audit log and pins an event to the incident log, the drill ends
// and the report merges it all.

const NAME_A = 'Ada Containment';
const NAME_B = 'Bo Investigator';
const NOTE_B = 'Confirmed: web-app pod quarantined, NetworkPolicy denies all traffic';
const policy = `echo '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"quarantine","namespace":"production"},"spec":{"podSelector":{"matchLabels":{"quarantine":"true"}},"policyTypes":["Ingress","Egress"]}}' | kubectl apply -f -`;
// Scripted injects (title → a phrase of the body): a participant must never receive the body of
// one that has not fired (the clock runs in real time too, so which have fired is read at the end).
const SCRIPTED: Record<string, string> = {
  'Management asks for a status update': 'The head of engineering wants three sentences',
  'Node team: an unknown privileged pod?': 'A node engineer noticed an unfamiliar privileged pod',
  'Legal: were payment credentials exposed?': 'Legal needs to know by the end of the drill',
  'Three minutes left': 'Wrap up: note what is still open',
};

/** Everything a participant's browser receives over HTTP and the drill WebSocket, as text. */
function recordTraffic(page: Page): string[] {
  const seen: string[] = [];
  page.on('response', async (response) => {
    const type = response.headers()['content-type'] ?? '';
    if (!/json|html|text|javascript|markdown/.test(type)) return;
    seen.push(`${response.url()}\n${await response.text().catch(() => '')}`);
  });
  page.on('websocket', (socket) => {
    if (!socket.url().includes('/ws/drills/')) return;
    socket.on('framereceived', (frame) => typeof frame.payload === 'string' && seen.push(frame.payload));
    socket.on('framesent', (frame) => typeof frame.payload === 'string' && seen.push(`sent ${frame.payload}`));
  });
  return seen;
}

/** The values of every answer key the server wrote so far (the drill cluster's among them). */
function answerKeySecrets(): string[] {
  const dir = path.join(process.env.IRLAB_E2E_DATA_DIR!, 'answer-keys');
  const secrets: string[] = [];
  for (const file of readdirSync(dir)) {
    const key = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { seed: string; firstMaliciousAt: string; reachableSecrets: Array<{ sha256: string }> };
    secrets.push(key.seed, key.firstMaliciousAt, ...key.reachableSecrets.map((s) => s.sha256));
  }
  return secrets.filter((s) => s && s.length >= 8);
}

/** axe's WCAG 2.2 AA and best-practice rules over the whole page. */
async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

async function join(context: BrowserContext, joinLink: string, name: string, role: string): Promise<{ page: Page; traffic: string[] }> {
  const page = await context.newPage();
  const traffic = recordTraffic(page);
  await page.goto(joinLink);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('radio', { name: role }).check();
  await page.getByRole('button', { name: 'Join the drill' }).click();
  await expect(page).toHaveURL(/\/drills\/[^/]+$/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  return { page, traffic };
}

function ownTerminal(page: Page): Locator {
  return page.locator('.terminal:not([data-readonly])');
}

async function typeInto(page: Page, terminal: Locator, command: string) {
  await terminal.locator('.terminal-screen').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

test('a drill: create, join, a conditional inject fires, one contains the pod, the other sees it live, the report merges it all', async ({ browser }) => {
  test.setTimeout(600_000); // a cluster of its own, seeded, on a machine that may be busy
  const facilitatorContext = await browser.newContext();
  const contextA = await browser.newContext();
  const contextB = await browser.newContext();

  // The facilitator creates the drill and keeps the secret link.
  const lobby = await facilitatorContext.newPage();
  await lobby.goto('/drills');
  await expect(lobby.getByLabel('Scenario', { exact: true })).toBeVisible({ timeout: 20_000 });
  await lobby.getByLabel('Duration (minutes)').fill('20');
  await lobby.getByRole('button', { name: 'Create the drill' }).click();
  await expect(lobby.getByTestId('drill-created')).toBeVisible({ timeout: 30_000 });
  await expect(lobby.getByText('Keep the facilitator link secret.')).toBeVisible();
  const code = (await lobby.getByTestId('drill-code').textContent())!.trim();
  const joinLink = (await lobby.getByTestId('drill-join-link').getAttribute('href'))!;
  const facilitatorLink = (await lobby.getByTestId('drill-facilitator-link').getAttribute('href'))!;
  const token = decodeURIComponent(/#token=(.+)$/.exec(facilitatorLink)![1]!);
  expect(joinLink).toContain(code);
  expect(joinLink).not.toContain(token);
  await expectAccessible(lobby);

  const facilitator = await facilitatorContext.newPage();
  await facilitator.goto(facilitatorLink);
  await expect(facilitator.getByRole('heading', { level: 1 })).toBeVisible({ timeout: 20_000 });
  expect(facilitator.url()).not.toContain(token); // the fragment is taken out of the address bar
  await expect(facilitator.getByTestId('drill-connection')).toContainText('Live');
  await expect(facilitator.getByTestId('drill-upcoming')).toContainText('SOC: the same account is still active');

  // Two participants join by the link and pick their roles.
  const a = await join(contextA, joinLink, NAME_A, 'Containment');
  const b = await join(contextB, joinLink, NAME_B, 'Investigator');
  await expect(facilitator.getByTestId('drill-participants')).toContainText(NAME_A);
  await expect(facilitator.getByTestId('drill-participants')).toContainText(NAME_B);
  await expect(b.page.getByTestId('drill-role')).toContainText('Investigator');

  // Before the clock starts the terminals are locked: the room says why, and the server refuses
  // the terminal itself (not only the button).
  const drillId = new URL(a.page.url()).pathname.split('/').pop()!;
  await expect(a.page.getByTestId('drill-terminal-locked')).toContainText('Locked until the drill clock starts');
  await expect(ownTerminal(a.page)).toHaveCount(0);
  const early = await a.page.request.post(`/api/drills/${drillId}/terminal`, { data: {} });
  expect(early.status()).toBe(423);
  expect(((await early.json()) as { error: string }).error).toContain('starts the drill clock');

  // The cluster gets ready; the facilitator starts the clock; both terminals connect.
  await expect(facilitator.getByTestId('drill-cluster')).toContainText('Cluster ready', { timeout: 180_000 });
  await facilitator.getByRole('button', { name: 'Start the drill' }).click();
  await expect(facilitator.getByTestId('drill-state')).toHaveText('Running');
  for (const { page } of [a, b]) {
    await expect(page.getByTestId('drill-state')).toHaveText('Running', { timeout: 20_000 });
    await expect(ownTerminal(page).getByTestId('terminal-status')).toContainText('Connected', { timeout: 90_000 });
    await expect(ownTerminal(page).locator('.xterm-rows')).toContainText('$', { timeout: 30_000 });
  }
  await expect(b.page.getByTestId('drill-log')).toContainText('Incident declared', { timeout: 30_000 });
  // Injects are Markdown rendered by the server: bold and code, one paragraph, no YAML line breaks.
  const brief = b.page.getByTestId('drill-log').locator('[data-kind="inject"]', { hasText: 'Incident declared' });
  await expect(brief.locator('.drill-entry-md strong', { hasText: 'web-app' })).toBeVisible();
  await expect(brief.locator('.drill-entry-md code', { hasText: 'kubectl' })).toBeVisible();
  await expectAccessible(b.page);
  await expectAccessible(facilitator);

  // Fast-forward past T+3m: the pod is not contained, so the escalation fires and the attacker acts.
  await facilitator.getByLabel('Fast-forward the clock by').fill('3');
  await facilitator.getByRole('button', { name: 'Fast-forward' }).click();
  for (const { page } of [a, b]) {
    const escalation = page.getByTestId('drill-log').locator('.drill-entry-highlight', { hasText: 'SOC: the same account is still active' });
    await expect(escalation).toBeVisible({ timeout: 60_000 });
  }
  await expect(b.page.getByTestId('drill-log').locator('[data-kind="attack"]').first()).toBeVisible({ timeout: 60_000 });
  await expect(facilitator.getByTestId('drill-upcoming')).not.toContainText('SOC: the same account is still active');

  // The facilitator pauses and resumes the clock, and sends a manual inject everyone sees at once.
  await facilitator.getByRole('button', { name: 'Pause' }).click();
  await expect(a.page.getByTestId('drill-state')).toHaveText('Paused', { timeout: 15_000 });
  await facilitator.getByRole('button', { name: 'Resume' }).click();
  await expect(a.page.getByTestId('drill-state')).toHaveText('Running', { timeout: 15_000 });
  await facilitator.getByLabel('Title').fill('Press office: a journalist is asking');
  await facilitator.getByLabel('Message to the team').fill('Say nothing until the incident commander approves a statement.');
  await facilitator.getByRole('button', { name: 'Send inject' }).click();
  await expect(b.page.getByTestId('drill-log').locator('.drill-entry-highlight', { hasText: 'Press office: a journalist is asking' })).toBeVisible({ timeout: 15_000 });

  // B watches A's terminal (read-only) while A contains the pod with real kubectl.
  await b.page.getByRole('button', { name: `Watch ${NAME_A}'s terminal` }).click({ timeout: 30_000 });
  const watched = b.page.locator('.terminal[data-readonly]');
  await expect(watched.getByTestId('terminal-status')).toContainText('Watching', { timeout: 30_000 });
  const terminalA = ownTerminal(a.page);
  await typeInto(a.page, terminalA, 'kubectl label pods -n production -l app=web-app quarantine=true tier-');
  await typeInto(a.page, terminalA, policy);
  await expect(terminalA.locator('.xterm-rows')).toContainText('networkpolicy.networking.k8s.io/quarantine', { timeout: 30_000 });
  await watched.scrollIntoViewIfNeeded(); // xterm draws only what is on screen
  await expect(watched.locator('.xterm-rows')).toContainText('networkpolicy.networking.k8s.io/quarantine', { timeout: 30_000 });

  // The scoreboard's containment check turns green on its own; B sees it in the log, live.
  const containRow = b.page.getByTestId('drill-scoreboard').locator('[data-step="contain"]');
  await expect(containRow).toHaveAttribute('data-passed', 'true', { timeout: 120_000 });
  await expect(containRow).toContainText('green at T+');
  await expect(b.page.getByTestId('drill-log').locator('[data-kind="check"][data-live]').first()).toBeVisible();

  // B writes a note; A and the facilitator get it without reloading.
  await b.page.getByPlaceholder('What did you see or do?').fill(NOTE_B);
  await b.page.getByRole('button', { name: 'Post note' }).click();
  await expect(a.page.getByTestId('drill-log').locator('[data-kind="note"]', { hasText: NOTE_B })).toContainText(NAME_B, { timeout: 15_000 });
  await expect(facilitator.getByTestId('drill-log')).toContainText(NOTE_B, { timeout: 15_000 });

  // Nothing a participant received so far holds the token, an answer key or an unfired inject
  // (paused, so nothing fires between reading the facilitator's upcoming list and the check).
  await facilitator.getByRole('button', { name: 'Pause' }).click();
  await expect(facilitator.getByTestId('drill-state')).toHaveText('Paused');
  const upcoming = (await facilitator.getByTestId('drill-upcoming').textContent().catch(() => '')) ?? '';
  const unfired = Object.entries(SCRIPTED).filter(([title]) => upcoming.includes(title)).map(([, body]) => body);
  const secrets = [token, ...answerKeySecrets(), ...unfired, 'firstMaliciousAt', 'secretsRead', 'reachableSecrets', '"unless"', 'upcomingInjects'];
  for (const { traffic } of [a, b]) {
    expect(traffic.length).toBeGreaterThan(5);
    const all = traffic.join('\n');
    for (const secret of secrets) expect(all, `participant traffic contains ${secret.slice(0, 40)}`).not.toContain(secret);
    expect(await a.page.content()).not.toContain(token);
  }

  // B, the Investigator, queries the drill cluster's audit log from the Audit log tab, by keyboard
  // from the tab list. (After the traffic check above: the audit log is evidence the team is meant
  // to read, and it holds the attacker's request times that the answer key also records.)
  const auditTab = b.page.getByRole('tab', { name: 'Audit log' });
  await auditTab.click();
  const pane = b.page.locator('#drill-pane-audit');
  const queryBox = pane.getByLabel('Query', { exact: true });
  await expect(queryBox).toBeVisible({ timeout: 30_000 });
  await auditTab.focus();
  await b.page.keyboard.press('Tab');
  await expect(queryBox).toBeFocused();
  await queryBox.fill('objectRef.resource == "secrets" AND verb in ("get", "list")');
  await b.page.keyboard.press('Control+Enter');
  await expect(pane.locator('.qp-status')).toContainText('matching event', { timeout: 60_000 });
  const rows = pane.locator('.qp-main table.qp-table tbody tr');
  await expect(rows.first()).toBeVisible();
  await rows.first().getByRole('button').click();
  const json = pane.locator('.qp-json pre');
  await expect(json).toContainText('"requestURI"');
  expect(await json.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true); // wrapped, nothing clipped
  await pane.getByLabel('Find in event', { exact: true }).fill('secrets');
  await expect(pane.locator('mark.qp-hit-current')).toHaveText(/secrets/i);
  await pane.getByRole('button', { name: 'Pin to the incident log' }).click();
  await expect(a.page.getByTestId('drill-log').locator('[data-kind="note"]', { hasText: 'Audit event at' })).toContainText(NAME_B, { timeout: 15_000 });
  // Someone outside the drill cannot query its cluster.
  const outsider = await facilitator.request.post('/api/query', { data: { source: `drill:${drillId}`, query: '' } });
  expect(outsider.status()).toBe(403);
  await expectAccessible(b.page);

  // The facilitator ends the drill; everyone is pointed to the report.
  facilitator.on('dialog', (dialog) => void dialog.accept());
  await facilitator.getByRole('button', { name: 'End the drill' }).click();
  await expect(facilitator.getByTestId('drill-state')).toHaveText('Ended', { timeout: 30_000 });
  await expect(b.page.getByRole('link', { name: 'Read the after-action report' })).toBeVisible({ timeout: 30_000 });
  await b.page.getByRole('link', { name: 'Read the after-action report' }).click();

  const timeline = b.page.getByTestId('report-timeline');
  await expect(timeline).toBeVisible({ timeout: 60_000 });
  await expect(timeline.locator('tr[data-kind="inject"]', { hasText: 'SOC: the same account is still active' }).first()).toBeVisible();
  await expect(timeline.locator('tr[data-kind="note"]', { hasText: NOTE_B })).toContainText(NAME_B);
  await expect(timeline.locator('tr[data-kind="command"]', { hasText: 'kubectl label pods' }).first()).toContainText(NAME_A);
  await expect(timeline.locator('tr[data-kind="audit"]', { hasText: 'attacker' }).first()).toBeVisible();
  await expect(timeline.locator('tr[data-kind="audit"]').filter({ hasText: /T\d{4}/ }).first()).toBeVisible(); // ATT&CK id on an attacker action
  await expect(timeline.locator('tr[data-kind="check"]').first()).toBeVisible();
  await expect(b.page.getByTestId('report-metrics')).toContainText('Time to contain');
  await expect(b.page.getByRole('button', { name: 'Print or save as PDF' })).toBeVisible();
  await expectAccessible(b.page);
  // Printed, the report is the document alone: no site header, footer or buttons.
  await b.page.emulateMedia({ media: 'print' });
  await expect(b.page.locator('.site-header')).toBeHidden();
  await expect(b.page.getByRole('button', { name: 'Print or save as PDF' })).toBeHidden();
  await expect(timeline).toBeVisible();
  await b.page.emulateMedia({ media: 'screen' });
  expect(/\/drills\/([^/]+)\/report$/.exec(new URL(b.page.url()).pathname)![1]).toBe(drillId);
  const markdown = await b.page.request.get(`/api/drills/${drillId}/report.md`);
  expect(markdown.ok()).toBe(true);
  expect(await markdown.text()).toContain(NOTE_B);
  for (const { traffic } of [a, b]) expect(traffic.join('\n')).not.toContain(token);

  await Promise.all([facilitatorContext.close(), contextA.close(), contextB.close()]);
});
