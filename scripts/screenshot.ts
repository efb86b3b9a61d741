/**
 * Takes the README's screenshots with Debian's Chromium: `npm run screenshot` while the built
 * server runs (BASE_URL, default http://localhost:4321). Writes docs/screenshots/*.png.
 */
import { chromium } from '@playwright/test';
import { mkdir } from 'node:fs/promises';

const base = process.env.BASE_URL ?? 'http://localhost:4321';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
try {
  await mkdir('docs/screenshots', { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  await page.goto(`${base}/lessons/l18-audit-logging-incident-response`);
  await page.screenshot({ path: 'docs/screenshots/lesson.png' });
  await page.goto(`${base}/lessons/l18-audit-logging-incident-response#detection-signals`);
  await page.waitForTimeout(500);
  await page.screenshot({ path: 'docs/screenshots/lesson-detections.png' });
  await page.goto(`${base}/`);
  await page.screenshot({ path: 'docs/screenshots/home.png', fullPage: true });
  // The quiz after two checked answers: one right, one wrong (a fresh learner each run).
  const quiz = await browser.newPage({ viewport: { width: 1280, height: 1100 }, reducedMotion: 'reduce' });
  await quiz.goto(`${base}/quizzes/l18`);
  await quiz.getByRole('button', { name: /Start the quiz|Try again/ }).click();
  const first = quiz.locator('[data-question="first-step"]');
  await first.getByLabel(/^Contain it/).check();
  await first.getByRole('button', { name: /Check answer/ }).click();
  const second = quiz.locator('[data-question="rbac-escalation-signal"]');
  await second.getByLabel(/^Many get secrets/).check();
  await second.getByRole('button', { name: /Check answer/ }).click();
  await second.locator('.quiz-feedback').waitFor();
  await quiz.locator('.quiz-title').scrollIntoViewIfNeeded();
  await quiz.screenshot({ path: 'docs/screenshots/quiz.png' });
  console.log('wrote docs/screenshots/{lesson,lesson-detections,home,quiz}.png');
} finally {
  await browser.close();
}
