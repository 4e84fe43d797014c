import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { renderText } from '../ocr/images.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { addPoints, addVersion, advance, newJob } from '../support/fixtures.ts';
import { type ServedApp, serveApp } from '../support/http.ts';
import { describeInBrowser, expectAccessible, launchBrowser, openPage } from './browser.ts';

// Generous timeouts: a loaded 2-core machine runs Chromium, the server and the database at once.
describeInBrowser('dashboard: models, dataset, OCR, roles', { timeout: 90_000 }, () => {
  let app: TestApp;
  let served: ServedApp;
  let browser: Browser;
  let trainingJobPath: string;

  beforeAll(async () => {
    app = await createTestApp({ trainingData: true });
    served = await serveApp(app);
    const db = app.database.db;
    const training = await advance(
      db,
      await newJob(db, 'still training'),
      'claim',
      'startTraining',
    );
    await addPoints(db, training.id, 120, 20);
    trainingJobPath = `/jobs/${encodeURIComponent(encodeGlobalID('TrainingJob', training.id))}`;
    const done = await advance(
      db,
      await newJob(db, 'first model'),
      'claim',
      'startTraining',
      'startValidation',
      'complete',
    );
    await addVersion(db, done, 1, true);
    await addVersion(db, await newJob(db, 'second model'), 2);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await app?.close();
  });

  test('models: activate another version', async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(`${served.origin}/models`);
    const section = page.getByRole('region', { name: /ZEUGNIS/ });
    const row = (version: string) => section.getByRole('row', { name: new RegExp(`^${version}`) });
    await expect.poll(() => row('v1.0').textContent()).toContain('Active');
    await expectAccessible(page);

    await row('v2.0')
      .getByRole('button', { name: /Activate/ })
      .click();
    await expect.poll(() => row('v2.0').textContent()).toContain('Active');
    await expect
      .poll(() =>
        row('v1.0')
          .getByRole('button', { name: /Activate/ })
          .count(),
      )
      .toBe(1);
    expect(pageErrors).toEqual([]);
    await close();
  });

  test('dataset: import a JSON Lines file and read its report', async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(`${served.origin}/dataset`);
    await page.getByRole('heading', { name: 'Documents by state' }).waitFor();
    await expectAccessible(page);
    // the seeded training data is there already: the count grows by the import
    const documents = page.locator('.fact', { hasText: /^Documents/ });
    const before = Number((await documents.textContent())?.replace('Documents', ''));
    expect(before).toBeGreaterThan(0);
    const doc = (title: string, bundesland: string) =>
      JSON.stringify({
        title,
        text: `${title}: Die Versetzung in die nächste Klassenstufe setzt ausreichende Leistungen voraus.`,
        bundesland,
        docType: 'verordnung',
        trainingAllowed: true,
      });
    const jsonl = [doc('Erste Verordnung', 'NW'), doc('Zweite Verordnung', 'BY'), '{"title": 1}'];
    await page.getByLabel('Import documents').setInputFiles({
      name: 'documents.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(`${jsonl.join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const report = page.getByRole('status');
    await expect.poll(() => report.textContent()).toMatch(/2 added, 0 skipped.*1 rejected/);
    expect(await report.textContent()).toContain('line 3');
    // the counts follow the import
    await expect.poll(() => documents.textContent()).toBe(`Documents${before + 2}`);
    await expectAccessible(page);
    expect(pageErrors).toEqual([]);
    await close();
  });

  test('OCR: read a rendered image, with progress, text and confidence', {
    timeout: 120_000,
  }, async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: ADMIN_TOKEN });
    await page.goto(`${served.origin}/ocr`);
    await page.getByLabel('Images').setInputFiles({
      name: 'zeugnis.png',
      mimeType: 'image/png',
      buffer: Buffer.from(renderText(['Zeugnis der Klasse 7', 'Mathematik gut'])),
    });
    await page.getByRole('button', { name: 'Start OCR' }).click();
    const results = page.getByRole('region', { name: 'Results' });
    await results.getByRole('progressbar', { name: 'OCR progress' }).waitFor();
    await expect
      .poll(() => results.getByRole('status').textContent(), { timeout: 90_000 })
      .toMatch(/^Done: 1 images/);
    expect(await results.textContent()).toMatch(/Zeugnis der Klasse 7[\s\S]*Mathematik gut/);
    expect(await results.textContent()).toMatch(/confidence \d+\.\d %/);
    await expectAccessible(page);
    expect(pageErrors).toEqual([]);
    await close();
  });

  test('a viewer sees every page but no control that changes anything', async () => {
    const { page, pageErrors, close } = await openPage(browser, { token: VIEWER_TOKEN });
    const mutating =
      /^(New job|Create|Pause|Resume|Cancel|Delete|Activate|Roll back|Import|Start OCR)/;
    const pages: Array<[string, string]> = [
      ['/jobs', 'Training jobs'],
      [trainingJobPath, 'still training'],
      ['/models', 'Models'],
      ['/dataset', 'Dataset'],
      ['/ocr', 'OCR'],
    ];
    for (const [path, heading] of pages) {
      await page.goto(`${served.origin}${path}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      // every query of the page answered (the event streams stay open: no network idle); polled
      // from here, since the page's CSP forbids the eval a string predicate in the page needs
      await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
      expect(await page.getByRole('button', { name: mutating }).count(), path).toBe(0);
      expect(await page.locator('input[type=file]').count(), path).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await expectAccessible(page);
    }
    // what a viewer may see is all there
    await page.goto(`${served.origin}${trainingJobPath}`);
    await expect
      .poll(() => page.getByRole('img', { name: 'Loss curve' }).getAttribute('data-points'))
      .toBe('120');
    await page.goto(`${served.origin}/models`);
    await expect.poll(() => page.getByText('Active', { exact: true }).count()).toBe(1);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(pageErrors).toEqual([]);
    await close();
  });
});

describeInBrowser('dashboard with auth disabled', { timeout: 90_000 }, () => {
  test('opens without sign-in and offers no sign-out', async () => {
    const app = await createTestApp({ trainingData: true, authDisabled: true });
    const served = await serveApp(app);
    const browser = await launchBrowser();
    try {
      const { page, pageErrors } = await openPage(browser);
      await page.goto(`${served.origin}/jobs`);
      await page.getByRole('heading', { name: 'Training jobs' }).waitFor();
      await page.getByRole('button', { name: 'New job' }).waitFor();
      expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      expect(await page.getByLabel('Token').count()).toBe(0);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
      await served.close();
      await app.close();
    }
  });
});
