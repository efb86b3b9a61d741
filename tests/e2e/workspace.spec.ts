import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';

// Issue 18: the lab page as a full-viewport workspace. One learner starts L18 once; the desktop
// checks run at 1440×900, then the same learner's lab is opened at 390×844.

const pane = (page: Page, id: string) => page.locator(`#pane-${id}`);
const rows = (terminal: Locator) => terminal.locator('.terminal-screen .xterm-rows');

/** Types a command into one terminal the way a person does: click it, type, Enter. */
async function runIn(terminal: Locator, command: string): Promise<void> {
  await terminal.locator('.terminal-screen').click();
  await terminal.page().keyboard.type(command);
  await terminal.page().keyboard.press('Enter');
}

/** Boxes that must hold each other, and the page itself not scrolling (desktop). */
async function boxes(page: Page, terminal: Locator) {
  return {
    frame: (await terminal.locator('.terminal-screen').boundingBox())!,
    xterm: (await terminal.locator('.xterm-screen').boundingBox())!,
    status: (await terminal.locator('.terminal-status').boundingBox())!,
    pane: (await terminal.locator('xpath=..').boundingBox())!,
    viewport: page.viewportSize()!,
    scroll: await page.evaluate(() => ({ height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth })),
  };
}

function expectNoOverflow(b: Awaited<ReturnType<typeof boxes>>) {
  // xterm's rows stay inside the terminal's frame (they used to spill ~27 px over the status line).
  expect(b.xterm.y).toBeGreaterThanOrEqual(b.frame.y);
  expect(b.xterm.y + b.xterm.height).toBeLessThanOrEqual(b.frame.y + b.frame.height + 0.5);
  expect(b.xterm.x + b.xterm.width).toBeLessThanOrEqual(b.frame.x + b.frame.width + 0.5);
  expect(b.status.y).toBeGreaterThanOrEqual(b.frame.y + b.frame.height - 0.5);
  expect(b.status.y + b.status.height).toBeLessThanOrEqual(b.pane.y + b.pane.height + 0.5);
  expect(b.frame.x + b.frame.width).toBeLessThanOrEqual(b.viewport.width);
}

test('the lab workspace: a wide terminal, shortcuts from inside it, help, a second shell, a resizable split, run-in-terminal, and a mobile layout', async ({ page, browser }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/labs/l18');
  await expect(page.getByRole('navigation', { name: 'Lesson and quiz' }).getByRole('link', { name: /L18/ }).first()).toHaveAttribute('href', '/lessons/l18-audit-logging-incident-response');
  await page.getByRole('button', { name: 'Start the lab' }).click();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  const main = pane(page, 'terminal').locator('section.terminal');
  await expect(main.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(rows(main)).toContainText('learner@irlab', { timeout: 30_000 });

  // ≥ 120 columns at 1440×900 with the default split, and the shell agrees.
  const cols = Number(await main.getAttribute('data-cols'));
  expect(cols).toBeGreaterThanOrEqual(120);
  await runIn(main, 'clear; echo "size=$(stty size)"');
  await expect(rows(main)).toContainText(`size=${await main.getAttribute('data-rows')} ${cols}`);
  const desktop = await boxes(page, main);
  test.info().annotations.push({ type: 'measured', description: `1440×900: ${cols}×${await main.getAttribute('data-rows')}, frame ${JSON.stringify(desktop.frame)}, xterm ${JSON.stringify(desktop.xterm)}` });
  expectNoOverflow(desktop);
  expect(desktop.scroll.height, 'the page itself does not scroll').toBeLessThanOrEqual(900);

  // Shortcuts switch panes from inside the terminal, and keys go back to it.
  await main.locator('.terminal-screen').click();
  await page.keyboard.press('Alt+3');
  await expect(page.getByRole('tab', { name: 'Audit log' })).toHaveAttribute('aria-selected', 'true');
  await expect(pane(page, 'audit')).toBeVisible();
  await page.keyboard.press('Alt+1');
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#pane-terminal') !== null)).toBe(true);
  await page.keyboard.type('echo "back-$((5*5))"');
  await page.keyboard.press('Enter');
  await expect(rows(main)).toContainText('back-25');
  // Alt+0 is a way out of the terminal: focus goes to the steps.
  await page.keyboard.press('Alt+0');
  await expect(pane(page, 'steps')).toBeFocused();
  // Tabs: arrow keys move between them.
  await page.getByRole('tab', { name: 'Terminal', exact: true }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Terminal 2' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Terminal 2' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: 'Notes' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Home');
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');

  // The help overlay: from inside the terminal, a modal dialog; Escape closes it, focus returns.
  await main.locator('.terminal-screen').click();
  await page.keyboard.press('Alt+/');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toBeVisible();
  await expect(help).toContainText('Ctrl+Shift+V');
  await expect(help.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('dialog') !== null), { message: 'focus stays in the dialog' }).toBe(true);
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#pane-terminal') !== null)).toBe(true);
  await page.getByRole('button', { name: /Keys/ }).click();
  await expect(help).toBeVisible();
  await help.getByRole('button', { name: 'Close' }).click();
  await expect(help).toBeHidden();

  // A second terminal: another shell of the same learner, on the same cluster and workspace.
  await page.keyboard.press('Alt+2');
  const second = pane(page, 'terminal2').locator('section.terminal');
  await expect(second.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(rows(second)).toContainText('learner@irlab', { timeout: 30_000 });
  expect(await second.getByTestId('terminal-cluster').innerText()).toBe(await main.getByTestId('terminal-cluster').innerText());
  // A different shell: a variable set in one is not in the other (each is pid 2 in its own sandbox).
  await runIn(second, 'SHELL_MARK=second; echo "mark2=[$SHELL_MARK]" | tee from-second.txt');
  await expect(rows(second)).toContainText('mark2=[second]');
  await page.keyboard.press('Alt+1');
  await runIn(main, 'clear; echo "mark1=[$SHELL_MARK]"; cat from-second.txt; echo ok-from-first >> from-second.txt && echo "wrote-$((2*21))"');
  await expect(rows(main)).toContainText('wrote-42');
  await expect(rows(main)).toContainText('mark1=[]');
  await expect(rows(main), 'the same workspace, writable by both').toContainText('mark2=[second]');

  // The split: keyboard resizing, remembered across a reload; the terminal refits.
  const separator = page.getByRole('separator', { name: 'Resize the steps pane' });
  await expect(separator).toHaveAttribute('aria-valuenow', '26');
  const stepsWidth = async () => (await pane(page, 'steps').boundingBox())!.width;
  const before = await stepsWidth();
  await separator.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(separator).toHaveAttribute('aria-valuenow', '24');
  expect(await stepsWidth()).toBeLessThan(before);
  await page.keyboard.press('End');
  await expect(separator).toHaveAttribute('aria-valuenow', '65');
  await expect.poll(async () => Number(await main.getAttribute('data-cols'))).toBeLessThan(cols);
  await page.reload();
  await expect(page.getByRole('separator', { name: 'Resize the steps pane' })).toHaveAttribute('aria-valuenow', '65');
  await page.getByRole('separator', { name: 'Resize the steps pane' }).dblclick();
  await expect(page.getByRole('separator', { name: 'Resize the steps pane' })).toHaveAttribute('aria-valuenow', '26');
  await expect(main.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect.poll(async () => Number(await main.getAttribute('data-cols'))).toBeGreaterThanOrEqual(120);

  // Run in terminal: a step's button, pressed while another tab is shown, brings the terminal to
  // the front, types the step's commands and runs them, and leaves focus in the shell.
  await runIn(main, 'clear');
  await page.getByRole('tab', { name: 'Notes' }).click();
  const step = async (id: string) => {
    const toggle = page.locator(`#step-${id}-toggle`);
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    return page.locator(`#step-${id}`);
  };
  await (await step('contain')).getByRole('button', { name: /^Run in terminal: kubectl get pods -n production --show-labels/ }).click();
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect(rows(main)).toContainText('LABELS', { timeout: 60_000 });
  await expect(rows(main)).toContainText(/web-app-\S+\s+\d\/\d\s+Running/, { timeout: 60_000 });
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#pane-terminal') !== null)).toBe(true);
  // A command with <placeholders> is pasted without Enter: it waits at the prompt to be filled in.
  await runIn(main, 'clear');
  await page.getByRole('tab', { name: 'Files' }).click();
  const placeholder = '<namespace>:<name>';
  await (await step('scope')).getByRole('button', { name: /^Paste in terminal: kubectl auth can-i --list -n production --as/ }).click();
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect(rows(main)).toContainText(`--as system:serviceaccount:${placeholder}`);
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#pane-terminal') !== null)).toBe(true);
  for (let i = 0; i < placeholder.length; i++) await page.keyboard.press('Backspace');
  await page.keyboard.type('default:default');
  await expect(rows(main)).toContainText('--as system:serviceaccount:default:default');
  await expect(rows(main)).not.toContainText('Non-Resource URLs');
  await page.keyboard.press('Enter');
  await expect(rows(main)).toContainText('Non-Resource URLs', { timeout: 60_000 });

  const axe = await new AxeBuilder({ page }).include('.lab-panel').analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);

  // The same learner on a phone: tabs instead of a split, the terminal on the first screen.
  const phone = await browser.newContext({ storageState: await page.context().storageState(), viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  try {
    const mobile = await phone.newPage();
    // Every frame while the page loads, the widest the layout viewport got: a phone widens it to
    // whatever overflows, and an unfitted 80-column terminal once did (687 px, then 17 px a frame back).
    await mobile.addInitScript(() => {
      const w = window as unknown as { widest: number };
      w.widest = 0;
      const sample = () => {
        w.widest = Math.max(w.widest, window.innerWidth, document.documentElement.scrollWidth);
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    });
    await mobile.goto('/labs/l18');
    await expect(mobile.getByRole('tab', { name: 'Steps' })).toBeVisible();
    await expect(mobile.getByRole('separator')).toHaveCount(0);
    const terminal = pane(mobile, 'terminal').locator('section.terminal');
    await expect(terminal.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
    await expect(rows(terminal)).toContainText('learner@irlab', { timeout: 30_000 });
    const small = await boxes(mobile, terminal);
    test.info().annotations.push({ type: 'measured', description: `390×844: ${await terminal.getAttribute('data-cols')}×${await terminal.getAttribute('data-rows')}, frame ${JSON.stringify(small.frame)}, xterm ${JSON.stringify(small.xterm)}` });
    expectNoOverflow(small);
    expect(await mobile.evaluate(() => (window as unknown as { widest: number }).widest), 'the page never grew wider than the phone while it loaded').toBeLessThanOrEqual(390);
    expect(small.frame.y + 120, 'the terminal is on the first screen').toBeLessThanOrEqual(844);
    await mobile.getByRole('tab', { name: 'Steps' }).tap();
    await expect(pane(mobile, 'steps')).toBeVisible();
    await expect(pane(mobile, 'terminal')).toBeHidden();
    await expect(pane(mobile, 'steps').locator('#step-contain')).toBeVisible();
  } finally {
    await phone.close();
  }
});
