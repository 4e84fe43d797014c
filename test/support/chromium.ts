import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

// Free of vitest, so that benchmark scripts can drive the browser too.

/** Debian's Chromium (`apt-get install chromium`); Playwright never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page that records what would otherwise pass unseen: uncaught errors and console errors.
 * With `token`, the tab starts signed in (the token is where the sign-in page keeps it).
 */
export async function openPage(browser: Browser, options: { token?: string } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (options.token) {
    await context.addInitScript(
      `sessionStorage.setItem('training-dashboard.token', ${JSON.stringify(options.token)})`,
    );
  }
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  return { page, pageErrors, close: () => context.close() };
}
