import { existsSync } from 'node:fs';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, expect, vi } from 'vitest';

/** Debian's Chromium (`apt-get install chromium`); Playwright never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

if (!hasChromium && process.env.REQUIRE_BROWSER === '1') {
  throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
}

if (!hasChromium) {
  console.warn(
    `Skipping the dashboard's browser tests: no ${CHROMIUM} (apt-get install -y chromium)`,
  );
}

// A page may take seconds to show a change on a loaded machine: wait that long in expect.poll.
vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 50 } } });

/** `describe` for tests that need Chromium: skipped, with the warning above, where it is missing. */
export const describeInBrowser = describe.skipIf(!hasChromium);

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

type AxeViolation = { id: string; impact: string | null; help: string; nodes: unknown[] };

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // evaluated through the DevTools protocol: the page's Content-Security-Policy stays on
  await page.evaluate(axe.source);
  const violations = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} element(s)`);
}

export async function expectAccessible(page: Page) {
  expect(await seriousA11yViolations(page)).toEqual([]);
}
