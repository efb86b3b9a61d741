import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { E2E_INSTRUCTOR_TOKEN } from './env.ts';
import { openTerminal, run, screen, transcript } from './terminal-helpers.ts';

/** /api/health tells memory and terminal counts only to the instructor token. */
const operator = { headers: { authorization: `Bearer ${E2E_INSTRUCTOR_TOKEN}` } };

test.describe.configure({ timeout: 60_000 });

test("kubectl in the terminal talks to the learner's own cluster", async ({ page }) => {
  await openTerminal(page);
  const cluster = (await page.getByTestId('terminal-cluster').innerText()).trim();
  expect(cluster).toMatch(/^term-[0-9a-f]{12}$/);
  await run(page, 'kubectl get ns');
  for (const namespace of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) await expect(screen(page)).toContainText(namespace, { timeout: 20_000 });
  await run(page, 'clear; kubectl config current-context; kubectl create namespace "mine-$((6*7))" && kubectl get ns');
  await expect(screen(page)).toContainText('mine-42', { timeout: 20_000 });
  await expect(screen(page)).toContainText(cluster);
});

test('the terminal runs a shell, and tput cols follows the window size', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openTerminal(page);
  const size = page.getByTestId('terminal-size');
  const wide = Number((await size.innerText()).split('×')[0]);
  await run(page, 'echo "cols=$(tput cols)"');
  await expect(screen(page)).toContainText(`cols=${wide}`);

  await page.setViewportSize({ width: 700, height: 700 });
  await expect(size).not.toHaveText(new RegExp(`^${wide}×`));
  const narrow = Number((await size.innerText()).split('×')[0]);
  expect(narrow).toBeLessThan(wide);
  await run(page, 'clear; echo "cols=$(tput cols)"');
  await expect(screen(page)).toContainText(`cols=${narrow}`);
});

test('offline and back: the terminal resumes with no output lost or doubled, and typed input runs once', async ({ page, context }) => {
  await openTerminal(page);
  test.setTimeout(120_000);
  // About 6 s of output (more on a busy machine): the tab goes offline in the middle of it.
  await run(page, 'for i in $(seq 1 200); do echo line-$i; sleep 0.03; done; echo "LOOP-$((6*7))"');
  await expect(screen(page)).toContainText(/line-\d+/, { timeout: 20_000 });
  await expect(screen(page)).not.toContainText('LOOP-42');

  await context.setOffline(true);
  const status = page.getByTestId('terminal-status');
  await expect(status).toContainText(/Offline|Reconnecting/);
  await page.keyboard.type('echo "typed-$((1+1))-offline"');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(1_500); // the loop keeps printing on the server meanwhile
  await context.setOffline(false);
  await expect(status).toContainText('Connected', { timeout: 15_000 });
  await expect(screen(page)).toContainText('typed-2-offline', { timeout: 60_000 });

  const text = await transcript(page);
  const lines = text.split('\n');
  // Keys typed offline are echoed by the shell's tty wherever the loop's output happens to be, so
  // count every line-N in order rather than whole lines.
  const numbered = [...text.matchAll(/line-(\d+)/g)].map((m) => m[0]);
  if (process.env.E2E_DEBUG) console.log(text);
  expect(numbered).toEqual(Array.from({ length: 200 }, (_, i) => `line-${i + 1}`));
  expect(lines.filter((line) => line === 'LOOP-42')).toHaveLength(1);
  expect(lines.filter((line) => line === 'typed-2-offline')).toHaveLength(1);
});

test('cat of a 20 MB file: the page stays responsive and the server holds a bounded amount of output', async ({ page }) => {
  test.setTimeout(180_000);
  await openTerminal(page);
  await run(page, 'seq 1 2700000 > big.txt && echo "size=$(wc -c < big.txt)"');
  await expect(screen(page)).toContainText(/size=2\d{7}/, { timeout: 30_000 });
  const before = (await (await page.request.get('/api/health', operator)).json()) as Health;

  await run(page, 'clear; cat big.txt; echo "CAT-$((40+2))-DONE"');
  let slowestFrameMs = 0;
  let peakRss = before.memory.rss;
  const done = expect(screen(page)).toContainText('CAT-42-DONE', { timeout: 150_000 });
  let finished = false;
  void done.then(() => (finished = true), () => (finished = true));
  while (!finished) {
    const started = Date.now();
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    slowestFrameMs = Math.max(slowestFrameMs, Date.now() - started);
    const health = (await (await page.request.get('/api/health', operator)).json()) as Health;
    peakRss = Math.max(peakRss, health.memory.rss);
    await page.waitForTimeout(200);
  }
  await done;
  await expect(screen(page)).toContainText('2700000');
  const after = (await (await page.request.get('/api/health', operator)).json()) as Health;
  console.log(`20 MB cat: slowest frame ${slowestFrameMs} ms, server RSS ${mb(before.memory.rss)} → peak ${mb(peakRss)} MB, peak output held ${after.terminal.peakRetainedOutputBytes} bytes`);
  // Bounded: the replay log plus the unacknowledged window, never the file.
  expect(after.terminal.peakRetainedOutputBytes).toBeLessThan(1024 * 1024);
  expect(peakRss - before.memory.rss).toBeLessThan(20 * 1024 * 1024);
  // Responsive: the page kept painting frames while 20 MB went through it.
  expect(slowestFrameMs).toBeLessThan(2_000);
});

test('two tabs on one session: the newer takes over and the older says so', async ({ page, context }) => {
  await openTerminal(page);
  await run(page, 'echo "first-$((2*3))"');
  await expect(screen(page)).toContainText('first-6');

  const second = await context.newPage();
  await openTerminal(second);
  await expect(screen(second)).toContainText('first-6'); // the same shell, replayed
  await run(second, 'echo "second-$((2*4))"'); // and it takes keys, though its count starts at 1 again
  await expect(screen(second)).toContainText('second-8');
  await expect(page.getByTestId('terminal-status')).toContainText('opened in another tab');
  const takeBack = page.getByRole('button', { name: 'Use the session here' });
  await expect(takeBack).toBeVisible();

  await takeBack.click();
  await expect(page.getByTestId('terminal-status')).toContainText('Connected');
  await expect(second.getByTestId('terminal-status')).toContainText('opened in another tab');
  await run(page, 'echo "back-$((3*4))"');
  await expect(screen(page)).toContainText('back-12');
  await expect(screen(page)).toContainText('second-8');

  // A reload is a new page on the same session: the screen comes back and typing works.
  await page.reload();
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('back-12');
  await run(page, 'echo "reloaded-$((5*5))"');
  await expect(screen(page)).toContainText('reloaded-25');
});

test('keyboard only: reach the terminal, type, leave it with Shift+Tab; screen reader mode toggles; no axe violations', async ({ page }) => {
  await openTerminal(page);
  const toggle = page.getByRole('button', { name: 'Screen reader mode' });
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('.xterm-accessibility-tree')).toBeAttached();

  await page.locator('.terminal-screen textarea').focus();
  await page.keyboard.type('echo "kbd-$((3*3))"');
  await page.keyboard.press('Enter');
  await expect(screen(page)).toContainText('kbd-9');
  await page.keyboard.press('Shift+Tab');
  const focusedInTerminal = await page.evaluate(() => document.activeElement?.closest('.terminal-screen') !== null);
  expect(focusedInTerminal).toBe(false);

  const results = await new AxeBuilder({ page }).include('.terminal-page').analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});

interface Health {
  memory: { rss: number };
  terminal: { peakRetainedOutputBytes: number; retainedOutputBytes: number };
}
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

test('Find loads its search code on first use and finds text in the output', async ({ page }) => {
  const scripts: string[] = [];
  page.on('request', (request) => request.resourceType() === 'script' && scripts.push(new URL(request.url()).pathname));
  await openTerminal(page);
  await run(page, 'echo "needle-$((6*7))"');
  await expect(screen(page)).toContainText('needle-42');
  // xterm's search addon is not part of the terminal's first load; the first Find fetches it (docs/pages.md).
  expect(scripts.filter((s) => /addon-search/.test(s))).toEqual([]);
  const fetched = page.waitForRequest((request) => /addon-search/.test(request.url()));
  await page.getByRole('button', { name: 'Find' }).click();
  await fetched;
  await page.getByRole('searchbox', { name: 'Find in output' }).fill('needle-42');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('search')).toContainText('Found “needle-42”.');
  await page.getByRole('searchbox', { name: 'Find in output' }).fill('no-such-text');
  await page.getByRole('button', { name: 'Previous' }).click();
  await expect(page.getByRole('search')).toContainText('No match for “no-such-text”.');
});
