import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../support/app.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { FakeRunner } from '../support/runner.ts';
import { describeInBrowser, expectAccessible, launchBrowser, openPage } from './browser.ts';

// The dashboard in Chromium against the real server over HTTP; a FakeRunner moves the jobs as
// the training runner would (database first, then the event).
// Generous timeouts: a loaded 2-core machine runs Chromium, the server and the database at once.
describeInBrowser('dashboard: sign-in and jobs', { timeout: 90_000 }, () => {
  let app: TestApp;
  let served: ServedApp;
  let runner: FakeRunner;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let closePage: () => Promise<void>;

  beforeAll(async () => {
    app = await createTestApp({ trainingData: true });
    served = await serveApp(app);
    runner = new FakeRunner(app.database.db, app.events, 1000);
    browser = await launchBrowser();
    ({ page, pageErrors, close: closePage } = await openPage(browser));
  });
  afterAll(async () => {
    await closePage?.();
    await browser?.close();
    await served?.close();
    await app?.close();
  });

  const jobIdFromUrl = () => {
    const match = new URL(page.url()).pathname.match(/^\/jobs\/([^/]+)$/);
    if (!match?.[1]) throw new Error(`not on a job page: ${page.url()}`);
    return decodeGlobalID(decodeURIComponent(match[1])).id;
  };

  test('sign-in: a wrong token shows an error, a good one opens the jobs', async () => {
    await page.goto(`${served.origin}/`);
    await page.getByLabel('Token').fill('not-a-token-of-this-server');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('did not accept this token');
    await expectAccessible(page);

    await page.getByLabel('Token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Training jobs' }).waitFor();
    for (const name of ['Jobs', 'Models', 'Dataset', 'OCR']) {
      await page.getByRole('navigation').getByRole('link', { name, exact: true }).waitFor();
    }
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByText('No training jobs yet').waitFor();
    await expectAccessible(page);
    // the token is kept for the tab: a reload stays signed in
    await page.reload();
    await page.getByRole('heading', { name: 'Training jobs' }).waitFor();
  });

  test('create a job through the form: a field error from the API first, then the job', async () => {
    await page.getByRole('button', { name: 'New job' }).click();
    await page.getByRole('heading', { name: 'New job' }).waitFor();
    await page.getByLabel('Name').fill('Zeugnisse NW');
    await page
      .getByRole('group', { name: 'States' })
      .getByRole('checkbox', { name: 'NW', exact: true })
      .check();
    const plan = page.getByRole('region', { name: 'Plan' });
    await expect.poll(() => plan.textContent()).toContain('Total steps');
    await expectAccessible(page);

    const batchSize = page.getByLabel('Batch size');
    await batchSize.fill('500');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => batchSize.getAttribute('aria-invalid')).toBe('true');
    const errorId = await batchSize.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/between 1 and 128/);
    await expectAccessible(page);

    await batchSize.fill('16');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Zeugnisse NW' }).waitFor();
    await expect.poll(() => page.getByText('Status:').textContent()).toContain('QUEUED');
    await expectAccessible(page);
  });

  test("the jobs table follows a job's status and progress live", async () => {
    const jobId = jobIdFromUrl();
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    const row = page.getByRole('row', { name: /Zeugnisse NW/ });
    await expect.poll(() => row.textContent()).toContain('QUEUED');

    await runner.start(jobId);
    await expect.poll(() => row.textContent()).toContain('TRAINING');
    await runner.step(jobId, 250);
    await expect.poll(() => row.textContent()).toContain('250 / 1000');
    await expect.poll(() => row.textContent()).toContain('25 %');
  });

  test('the job page draws the curve, which grows while the job trains', async () => {
    await page.getByRole('link', { name: 'Zeugnisse NW' }).click();
    const chart = page.getByRole('img', { name: 'Loss curve' });
    await expect.poll(() => chart.getAttribute('data-points')).toBe('250');
    const jobId = jobIdFromUrl();
    await runner.step(jobId, 30);
    await expect.poll(() => chart.getAttribute('data-points')).toBe('280');
    await runner.step(jobId, 20);
    await expect.poll(() => chart.getAttribute('data-points')).toBe('300');
    expect(await page.locator('figcaption').textContent()).toContain('up to step 300');
    await expectAccessible(page);
  });

  test('pause, resume, cancel and delete by buttons, each enabled only when allowed', async () => {
    const button = (name: string) => page.getByRole('button', { name, exact: true });
    const status = () => page.getByText('Status:').textContent();
    const enabled = async () => {
      const names = ['Pause', 'Resume', 'Cancel', 'Delete'];
      const states = await Promise.all(names.map((n) => button(n).isEnabled()));
      return names.filter((_, i) => states[i]);
    };
    await expect.poll(enabled).toEqual(['Pause', 'Cancel']);

    await button('Pause').click();
    await expect.poll(status).toContain('PAUSED');
    await expect.poll(enabled).toEqual(['Resume', 'Cancel', 'Delete']);

    await button('Resume').click();
    await expect.poll(status).toContain('QUEUED');
    await expect.poll(enabled).toEqual(['Pause', 'Cancel', 'Delete']);

    await button('Cancel').click();
    await expect.poll(status).toContain('CANCELLED');
    await expect.poll(enabled).toEqual(['Delete']);

    await button('Delete').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete job' }).click();
    await page.getByRole('heading', { name: 'Training jobs' }).waitFor();
    await expect.poll(() => page.getByRole('row', { name: /Zeugnisse NW/ }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
