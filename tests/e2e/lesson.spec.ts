import { expect, test } from '@playwright/test';
import { parse } from 'yaml';

const LESSON = '/lessons/l18-audit-logging-incident-response';

// The seed lesson's example policy, restored: the page must teach exactly this policy.
const SEED_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    { level: 'Request', resources: [{ group: '', resources: ['secrets'] }] },
    {
      level: 'RequestResponse',
      resources: [{ group: 'rbac.authorization.k8s.io', resources: ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'] }],
    },
    { level: 'Request', resources: [{ group: '', resources: ['pods/exec', 'pods/portforward', 'pods/attach'] }] },
    { level: 'Metadata', resources: [{ group: '', resources: ['nodes', 'namespaces'] }] },
    { level: 'Metadata' },
  ],
};

const SIGNALS: Array<[signal: string, attack: string[]]> = [
  ['Secret enumeration', ['T1552.007', 'T1613']],
  ['RBAC escalation', ['T1098.006']],
  ['Pod exec abuse', ['T1609']],
  ['Token theft', ['T1528']],
  ['Namespace escape', ['T1610']],
];

test('the home page lists lesson L18 and leads to it', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('incident response');
  await page.getByRole('link', { name: /Audit Logging and Incident Response in Kubernetes/ }).click();
  await expect(page).toHaveURL(new RegExp(`${LESSON}/?$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit Logging and Incident Response in Kubernetes');
});

test('every table-of-contents entry scrolls to its section', async ({ page }) => {
  // Some 28 clicks, each scrolling a long page: more than the default 30 s on a loaded machine.
  test.setTimeout(120_000);
  await page.goto(LESSON);
  const toc = page.getByRole('navigation', { name: 'On this page' });
  const links = toc.getByRole('link');
  const texts = await links.allInnerTexts();
  for (const section of [
    'Audit logs: the forensic trail',
    'Audit levels and stages',
    'Writing an audit policy',
    'Shipping audit logs off the cluster',
    'The incident response playbook',
    'Detection signals',
    'Key takeaways',
    'Hands-on lab',
    'Quiz',
  ]) {
    expect(texts.map((t) => t.trim())).toContain(section);
  }
  const count = await links.count();
  expect(count).toBeGreaterThan(15);
  for (let i = 0; i < count; i++) {
    const link = links.nth(i);
    const href = (await link.getAttribute('href')) ?? '';
    expect(href).toMatch(/^#[a-z0-9-]+$/);
    await link.click();
    await expect(page).toHaveURL(new RegExp(`${href}$`));
    // Attribute selector: slugs such as `1-contain` are not valid CSS ids.
    await expect(page.locator(`[id="${href.slice(1)}"]`)).toBeInViewport();
  }
  // Once hydrated, the TOC marks the section in view.
  await expect(toc.locator('a[aria-current="location"]')).toHaveCount(1);
});

test('the page teaches every detection signal with its ATT&CK ids', async ({ page }) => {
  await page.goto(LESSON);
  const section = page.locator('.prose');
  const table = section.locator('table', { hasText: 'Namespace escape' }).first();
  for (const [signal, ids] of SIGNALS) {
    const row = table.locator('tr', { hasText: signal });
    await expect(row).toHaveCount(1);
    for (const id of ids) await expect(row).toContainText(id);
  }
  await expect(table).toContainText('clusterrolebindings');
  await expect(table).toContainText('kube-system');
  await expect(table).toContainText('pods/exec');
});

test('the example audit policy is on the page, whole and valid', async ({ page }) => {
  await page.goto(LESSON);
  const blocks = page.locator('.prose pre', { hasText: 'kind: Policy' });
  const texts = await blocks.allInnerTexts();
  const policies = texts.map((t) => parse(t) as unknown);
  expect(policies).toContainEqual(SEED_POLICY);
});

test('the playbook shows the seed commands', async ({ page }) => {
  await page.goto(LESSON);
  const prose = page.locator('.prose');
  for (const command of [
    'kubectl label pod compromised-pod quarantine=true -n production',
    'kubectl get pod compromised-pod -n production -o yaml > pod-evidence.yaml',
    'kubectl logs compromised-pod -n production --all-containers > pod-logs.txt',
    'kubectl describe pod compromised-pod -n production > pod-describe.txt',
    'kubectl cp production/compromised-pod:/tmp ./evidence/tmp/',
    'user.username == "system:serviceaccount:production:web-app"',
  ]) {
    await expect(prose).toContainText(command);
  }
});

test('a code block copies its exact text', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(LESSON);
  const block = page.locator('.code-block', { hasText: 'kubectl label pod compromised-pod' }).first();
  const code = (await block.locator('pre').innerText()).replace(/\n$/, '');
  const button = block.getByRole('button', { name: /Copy/ });
  await button.focus();
  await page.keyboard.press('Enter');
  await expect(button).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
});

test('keyboard users can skip to the content', async ({ page }) => {
  await page.goto(LESSON);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
});

test('an unknown lesson is a 404 with a way back', async ({ page }) => {
  const response = await page.goto('/lessons/no-such-lesson');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('link', { name: 'lesson list' })).toBeVisible();
});

test('the lesson page leads to every other lab and quiz written for it', async ({ page }) => {
  await page.goto(LESSON);
  const lab = page.getByRole('link', { name: 'Revoke a leaked CI token' });
  await expect(lab).toHaveAttribute('href', '/labs/leaked-ci-token');
  await page.getByRole('link', { name: 'Leaked CI token: a stolen service-account token used from outside' }).click();
  await expect(page).toHaveURL(/\/quizzes\/leaked-ci-token$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Quiz' })).toBeVisible();
  await page.getByRole('button', { name: 'Start the quiz' }).click();
  await expect(page.locator('[data-question]')).toHaveCount(5);
});

test('the lesson leads to its lab and quiz from its header, and still at the end', async ({ page }) => {
  await page.goto(LESSON);
  const header = page.locator('.lesson-header');
  const lab = header.getByRole('link', { name: 'Open the lab' });
  await expect(lab).toHaveAttribute('href', '/labs/l18');
  await expect(lab).toBeInViewport();
  expect((await lab.boundingBox())!.y).toBeLessThan(900);
  await expect(header.getByRole('link', { name: 'Take the quiz' })).toHaveAttribute('href', '#quiz');
  await expect(page.locator('#lab').getByRole('link', { name: 'Open the lab' })).toHaveAttribute('href', '/labs/l18');
});

test.describe('on a 390 px phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the title comes first, then the table of contents collapsed; nothing overflows', async ({ page }) => {
    await page.goto(LESSON);
    const title = page.getByRole('heading', { level: 1 });
    await expect(title).toBeInViewport();
    const summary = page.locator('summary', { hasText: 'On this page' });
    const toc = page.getByRole('navigation', { name: 'On this page' });
    expect((await title.boundingBox())!.y).toBeLessThan((await summary.boundingBox())!.y);
    // The lab link and the contents are on the first screen, not after 30 entries.
    await expect(page.locator('.lesson-header').getByRole('link', { name: 'Open the lab' })).toBeInViewport();
    await expect(summary).toBeInViewport();
    await expect(toc.getByRole('link', { name: 'Key takeaways' })).toBeHidden();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
    // A disclosure: keyboard opens it, and its entries work.
    await summary.focus();
    await page.keyboard.press('Enter');
    await expect(summary.locator('xpath=..')).toHaveAttribute('open', '');
    await toc.getByRole('link', { name: 'Key takeaways' }).click();
    await expect(page).toHaveURL(/#key-takeaways$/);
  });
});

test('/labs lists every lab with its lesson and steps, and leads to it', async ({ page }) => {
  await page.goto('/labs');
  await expect(page.getByRole('heading', { level: 1, name: 'Labs' })).toBeVisible();
  const entries = page.locator('[data-lab]');
  await expect(entries).toHaveCount(3);
  // A kind-only lab is listed on the embedded engine, saying it needs kind.
  await expect(page.locator('[data-lab="node-escape"]')).toContainText('Needs kind');
  const l18 = page.locator('[data-lab="l18"]');
  await expect(l18.getByRole('heading', { level: 2 })).toHaveText('Respond to a compromised web-app pod');
  await expect(l18).toContainText(/\d+ steps/);
  await expect(l18.getByRole('link', { name: /L18: Audit Logging/ })).toHaveAttribute('href', LESSON);
  await expect(page.locator('[data-lab="leaked-ci-token"]')).toContainText('Revoke a leaked CI token');
  await l18.getByRole('link', { name: 'Open the lab: Respond to a compromised web-app pod' }).click();
  await expect(page).toHaveURL(/\/labs\/l18$/);
});

test('/quizzes lists every quiz with its lesson, and the quiz page leads back to its lesson and lab', async ({ page }) => {
  await page.goto('/quizzes');
  await expect(page.locator('[data-quiz]')).toHaveCount(3);
  const l18 = page.locator('[data-quiz="l18"]');
  await expect(l18).toContainText(/\d+ questions · pass at \d+%/);
  await expect(l18.getByRole('link', { name: /L18: Audit Logging/ })).toHaveAttribute('href', LESSON);
  await l18.getByRole('link', { name: /^Take the quiz/ }).click();
  await expect(page).toHaveURL(/\/quizzes\/l18$/);
  const context = page.getByRole('list', { name: 'Goes with' });
  await expect(context.getByRole('link', { name: 'Audit Logging and Incident Response in Kubernetes' })).toHaveAttribute('href', LESSON);
  await expect(context.getByRole('link', { name: 'Respond to a compromised web-app pod' })).toHaveAttribute('href', '/labs/l18');
});
