import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { describe, expect, vi } from 'vitest';
import { CHROMIUM, hasChromium } from '../support/chromium.ts';

export { launchBrowser, openPage } from '../support/chromium.ts';

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
