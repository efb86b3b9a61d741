import type { Page } from '@playwright/test';

/**
 * Holds back an island's own module (`/_astro/<Island>.<hash>.js`) until `release()`: the page is
 * on screen, server-rendered, and whatever is typed meanwhile lands before React hydrates it.
 */
export async function holdIsland(page: Page, island: string): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(new RegExp(`/_astro/${island}\\.[^/]*\\.js$`), async (route) => {
    await held;
    await route.continue();
  });
  return release;
}
