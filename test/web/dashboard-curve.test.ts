import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/app.ts';
import { newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { FakeRunner } from '../support/runner.ts';
import { describeInBrowser, launchBrowser, openPage } from './browser.ts';

// The job page loads `curve` (at most 2,000 points for the whole run), appends every live point,
// and loads the curve again once it holds 10,000 points (web/src/pages/JobPage.tsx).
const CURVE_POINTS = 2000;
const HELD_POINTS_MAX = 10_000;

describeInBrowser('dashboard: the loss curve of a long run', { timeout: 120_000 }, () => {
  let app: TestApp;
  let served: ServedApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await createTestApp({ trainingData: true });
    served = await serveApp(app);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await app?.close();
  });

  test('shows the whole run from its first to its last step, grows live, and stays bounded', async () => {
    const runner = new FakeRunner(app.database.db, app.events, 30_000);
    const job = await newJob(app.database.db, 'long run');
    await runner.start(job.id);
    await runner.step(job.id, 6000);
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(
      `${served.origin}/jobs/${encodeURIComponent(encodeGlobalID('TrainingJob', job.id))}`,
    );
    const chart = page.getByRole('img', { name: 'Loss curve' });
    const drawn = async () => ({
      first: Number(await chart.getAttribute('data-first-step')),
      last: Number(await chart.getAttribute('data-last-step')),
      points: Number(await chart.getAttribute('data-points')),
    });

    await expect.poll(async () => (await drawn()).last).toBe(6000);
    const opened = await drawn();
    expect(opened.first).toBe(1);
    expect(opened.points).toBeGreaterThan(100);
    expect(opened.points).toBeLessThanOrEqual(CURVE_POINTS);

    // live points are appended, each once
    await runner.step(job.id, 500);
    await expect.poll(async () => (await drawn()).last).toBe(6500);
    expect(await drawn()).toEqual({ first: 1, last: 6500, points: opened.points + 500 });

    // past the bound, the page holds a coarser curve of the whole run instead
    for (let i = 0; i < 3; i++) await runner.step(job.id, 3000);
    await expect.poll(async () => (await drawn()).last).toBe(15_500);
    await expect.poll(async () => (await drawn()).points).toBeLessThan(HELD_POINTS_MAX);
    expect((await drawn()).first).toBe(1);
    await runner.step(job.id, 100);
    await expect.poll(async () => (await drawn()).last).toBe(15_600);
    expect(pageErrors).toEqual([]);
    await close();
  });
});
