import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Runner } from '../../src/training/runner/runner.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { createJob, jobInput, startTestRunner, untilStatus } from '../training/runner-support.ts';
import { describeInBrowser, expectAccessible, launchBrowser, openPage } from './browser.ts';

// The dashboard on the API of "Training people can trust": the plan as you type, a completed
// job's validation and activation decision, and the activation history with Roll back. Jobs
// train for real (the runner and the built-in trainer, on the seeded corpus).
// Generous timeouts: a loaded 2-core machine runs Chromium, the server, the trainer and the
// database at once.
describeInBrowser('dashboard: plan, results and activation', { timeout: 120_000 }, () => {
  let app: TestApp;
  let served: ServedApp;
  let runner: Runner;
  let browser: Browser;
  /** Job page paths of the two completed jobs: the first activates always, the second by hand. */
  let firstJob: string;
  let manualJob: string;

  beforeAll(async () => {
    app = await createTestApp({ trainingData: true });
    served = await serveApp(app);
    runner = startTestRunner({ db: app.database.db, events: app.events });
    const first = await createJob(app, jobInput('first model', { activation: 'ALWAYS' }));
    await untilStatus(app.database.db, first.rowId, 'COMPLETED');
    const manual = await createJob(app, jobInput('manual model', { activation: 'MANUAL' }));
    await untilStatus(app.database.db, manual.rowId, 'COMPLETED');
    firstJob = `/jobs/${encodeURIComponent(first.id)}`;
    manualJob = `/jobs/${encodeURIComponent(manual.id)}`;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await runner?.stop();
    await served?.close();
    await app?.close();
  });

  /** The value of a fact (`<dt>term</dt><dd>value</dd>`) inside `scope`. */
  const fact = (scope: Locator, term: string) =>
    scope.locator('.fact', { has: scope.page().getByText(term, { exact: true }) }).locator('dd');

  test('the plan follows the form as you type; empty learning rate and warm-up are the trainer’s choice', async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(`${served.origin}/jobs/new`);
    const plan = page.getByRole('region', { name: 'Plan' });
    await expect.poll(() => plan.textContent()).toContain('Choose one or more states');
    for (const label of ['Learning rate', 'Warm-up steps']) {
      expect(await page.getByLabel(label).inputValue()).toBe('');
      expect(await page.getByLabel(label).getAttribute('aria-describedby')).toBeTruthy();
    }
    expect(await page.getByText("Empty: the trainer's choice").count()).toBeGreaterThan(0);

    // no name yet: the plan does not need one
    await page
      .getByRole('group', { name: 'States' })
      .getByRole('checkbox', { name: 'NW', exact: true })
      .check();
    await page.getByLabel('Epochs').fill('2');
    const totalSteps = fact(plan, 'Total steps');
    const epochsPlanned = async () =>
      Number(await totalSteps.textContent()) /
      Number(await fact(plan, 'Steps per epoch').textContent());
    // a plan for the default epochs may come first
    await expect.poll(epochsPlanned).toBe(2);
    const stepsPerEpoch = Number(await fact(plan, 'Steps per epoch').textContent());
    expect(await fact(plan, 'Learning rate').textContent()).toContain("trainer's choice");
    expect(await fact(plan, 'Warm-up steps').textContent()).toContain("trainer's choice");
    expect(await plan.textContent()).toMatch(/Labels: \w+ \d+/);
    expect(await fact(plan, 'Estimated duration').textContent()).toMatch(/\d+ (s|min)/);
    // a few examples in one state: the plan warns
    await expect
      .poll(() => plan.getByRole('list', { name: 'Warnings' }).textContent())
      .toMatch(/FEW_STEPS|TINY_VALIDATION/);
    await expectAccessible(page);

    // typing changes the plan
    await page.getByLabel('Epochs').fill('6');
    await expect.poll(async () => Number(await totalSteps.textContent())).toBe(6 * stepsPerEpoch);
    await page.getByLabel('Learning rate').fill('0.002');
    await expect.poll(() => fact(plan, 'Learning rate').textContent()).toBe('2.00e-3');
    await page.getByText('More settings').click();
    await page.getByLabel('Warm-up steps').fill('7');
    await expect.poll(() => fact(plan, 'Warm-up steps').textContent()).toBe('7');

    // a value the API refuses is marked while typing, before Create
    const batchSize = page.getByLabel('Batch size');
    await batchSize.fill('500');
    await expect.poll(() => batchSize.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await batchSize.getAttribute('aria-describedby'))?.split(' ')[0];
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/between 1 and 128/);
    await expectAccessible(page);
    await batchSize.fill('8');
    await expect.poll(() => batchSize.getAttribute('aria-invalid')).toBe(null);
    await expect.poll(() => totalSteps.textContent()).toMatch(/^\d+$/);
    expect(pageErrors).toEqual([]);
    await close();
  });

  test("a completed job shows accuracy, macro-F1, the baseline, the confusion matrix and its version's activation decision", async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(`${served.origin}${manualJob}`);
    await page.getByRole('heading', { name: 'manual model' }).waitFor();
    const results = page.getByRole('region', { name: 'Results' });
    await results.getByRole('heading', { name: 'Activation' }).waitFor();
    for (const term of ['Accuracy', 'Macro-F1', 'Baseline accuracy', 'Baseline macro-F1']) {
      expect(await fact(results, term).textContent(), term).toMatch(/^\d+\.\d %$/);
    }
    const matrix = results.getByRole('table', { name: /Confusion matrix/ });
    const labels = await matrix.getByRole('columnheader').allTextContents();
    expect(labels.length).toBeGreaterThan(1);
    // one row per true label, one count per predicted label
    expect(await matrix.getByRole('rowheader').allTextContents()).toEqual(labels);
    expect(await results.getByRole('table', { name: 'Per label' }).getByRole('row').count()).toBe(
      labels.length + 1,
    );
    expect(await results.textContent()).toContain('Not activated: this job activates by hand only');
    expect(await results.textContent()).toMatch(/Model version v2\.0 \(not serving\)/);
    // the stored plan, and the configuration says what the trainer chose
    await page.getByRole('region', { name: 'Plan' }).getByText('Total steps').waitFor();
    await expectAccessible(page);

    await page.goto(`${served.origin}${firstJob}`);
    await page.getByRole('heading', { name: 'first model' }).waitFor();
    await expect
      .poll(() => page.getByRole('region', { name: 'Results' }).textContent())
      .toMatch(/Model version v1\.0\s*Active[\s\S]*Activated/);
    expect(pageErrors).toEqual([]);
    await close();
  });

  test('models: the activation history grows with Activate and Roll back', async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(`${served.origin}/models`);
    const section = page.getByRole('region', { name: /^ZEUGNIS/ });
    const row = (version: string) =>
      section
        .getByRole('table', { name: /model versions/ })
        .getByRole('row', { name: new RegExp(`^${version}`) });
    const history = section.getByRole('table', { name: 'Activation history' });
    // version, before, how, by (not when)
    const historyRows = async () =>
      Promise.all(
        (await history.locator('tbody tr').all()).map(async (r) =>
          (await r.locator('td').allTextContents()).slice(1).join(' | '),
        ),
      );
    const rollBack = section.getByRole('button', { name: 'Roll back', exact: true });

    await expect.poll(() => row('v1.0').textContent()).toContain('Active');
    await expect.poll(historyRows).toEqual(['v1.0 | — | automatic (always) | system']);
    // the first activation replaced nothing
    expect(await rollBack.isDisabled()).toBe(true);
    await expectAccessible(page);

    await row('v2.0').getByRole('button', { name: 'Activate', exact: true }).click();
    await expect.poll(() => row('v2.0').textContent()).toContain('Active');
    await expect
      .poll(historyRows)
      .toEqual(['v2.0 | v1.0 | by hand | admin', 'v1.0 | — | automatic (always) | system']);
    await expect.poll(() => rollBack.isEnabled()).toBe(true);
    expect(await section.textContent()).toContain('re-activates v1.0');

    await rollBack.click();
    await expect.poll(() => row('v1.0').textContent()).toContain('Active');
    expect(await row('v2.0').getByRole('button', { name: 'Activate' }).count()).toBe(1);
    await expect
      .poll(historyRows)
      .toEqual([
        'v1.0 | v2.0 | roll back | admin',
        'v2.0 | v1.0 | by hand | admin',
        'v1.0 | — | automatic (always) | system',
      ]);
    await expectAccessible(page);
    expect(pageErrors).toEqual([]);
    await close();
  });

  test('a viewer sees results and history, and no control that changes anything', async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: VIEWER_TOKEN });
    await page.goto(`${served.origin}/models`);
    const section = page.getByRole('region', { name: /^ZEUGNIS/ });
    await section.getByRole('table', { name: 'Activation history' }).waitFor();
    expect(await page.getByRole('button', { name: /Activate|Roll back/ }).count()).toBe(0);
    await expectAccessible(page);

    await page.goto(`${served.origin}${manualJob}`);
    await page.getByRole('region', { name: 'Results' }).getByText('Not activated').waitFor();
    expect(
      await page.getByRole('button', { name: /Pause|Resume|Cancel|Delete|Activate/ }).count(),
    ).toBe(0);
    // the form is for admins: a viewer is told so, and gets no Create
    await page.goto(`${served.origin}/jobs/new`);
    await page.getByText('Creating jobs needs the admin role.').waitFor();
    expect(await page.getByRole('button', { name: 'Create' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await close();
  });
});
