/**
 * The dashboard's job page in Chromium, against the server on PGlite:
 *   - open: a job with BENCH_POINTS stored points; time from navigation until the loss curve is
 *     drawn from the run's first to its last step (the page loads `curve`);
 *   - stream: a training job whose page is open while BENCH_POINTS points arrive live (the
 *     runner's pace: an event every 250 ms with BENCH_POINTS_PER_EVENT points); frames per second
 *     and the longest frames, measured in the page with requestAnimationFrame and
 *     performance.now(); the page holds a bounded number of points (it reloads a coarser curve).
 *
 * Usage: `npm run bench:dashboard` (needs /usr/bin/chromium and the built dashboard). Env:
 * BENCH_POINTS=80000, BENCH_POINTS_PER_EVENT=400.
 */
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { createApp } from '../../src/app.ts';
import { TokenStore } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { createHttpServer } from '../../src/http/listener.ts';
import { encodeGlobalID } from '../../src/schema/global-ids.ts';
import { launchBrowser, openPage } from '../../test/support/chromium.ts';
import { advance, insertPoints, newJob, pointRows } from '../../test/support/fixtures.ts';
import { FakeRunner } from '../../test/support/runner.ts';
import { seedTrainingData } from '../../test/support/training-data.ts';

const POINTS = Number(process.env.BENCH_POINTS ?? 80_000);
const PER_EVENT = Number(process.env.BENCH_POINTS_PER_EVENT ?? 400);
const TOKEN = 'bench-dashboard-token-0123456789';

const logger = pino({ level: 'silent' });
const database = await openDatabase({ kind: 'pglite' });
await database.migrate();
const config = loadConfig({ OCR_WORKERS: '1' });
const app = createApp({
  database,
  logger,
  tokens: new TokenStore([{ token: TOKEN, role: 'admin' }]),
  settings: config,
});
const { server } = createHttpServer(app, { logger });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const db = database.db;
const jobPath = (id: string) =>
  `${origin}/jobs/${encodeURIComponent(encodeGlobalID('TrainingJob', id))}`;

const browser = await launchBrowser();
try {
  await seedTrainingData(db);
  // open
  const stored = await advance(db, await newJob(db, 'stored run'), 'claim', 'startTraining');
  await insertPoints(db, pointRows(stored.id, POINTS, 100));
  const opened = await openPage(browser, { token: TOKEN });
  await opened.page.goto(`${origin}/jobs`); // warm: scripts cached, signed in
  await opened.page.getByRole('heading', { name: 'Training jobs' }).waitFor();
  await opened.page.goto(jobPath(stored.id));
  await drawnUpTo(opened.page, POINTS);
  // setData runs in the next animation frame: wait for two frames, then read the clock
  const openMs = (await opened.page.evaluate(
    'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))',
  )) as number;
  const drawn = await opened.page
    .getByRole('img', { name: 'Loss curve' })
    .getAttribute('data-points');
  await opened.close();

  // stream
  const runner = new FakeRunner(db, app.events, POINTS);
  const live = await newJob(db, 'live run');
  await runner.start(live.id);
  const streamed = await openPage(browser, { token: TOKEN });
  await streamed.page.goto(jobPath(live.id));
  await streamed.page.getByRole('img', { name: 'Loss curve' }).waitFor();
  await streamed.page.evaluate(`
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => { window.__frames.push(now - last); last = now; if (!window.__stop) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  `);
  const started = performance.now();
  for (let sent = 0; sent < POINTS; sent += PER_EVENT) {
    const next = performance.now() + 250;
    await runner.step(live.id, Math.min(PER_EVENT, POINTS - sent));
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await drawnUpTo(streamed.page, POINTS, 60_000);
  const seconds = (performance.now() - started) / 1000;
  const frames = (await streamed.page.evaluate(
    'window.__stop = true; window.__frames.slice(1)',
  )) as number[];
  await streamed.close();
  const sorted = [...frames].sort((a, b) => a - b);
  const total = frames.reduce((a, b) => a + b, 0) / 1000;
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `open: loss curve of steps 1..${POINTS} drawn ${openMs.toFixed(0)} ms after navigation, from ${drawn} points (curve)`,
  );
  console.log(
    `stream: ${POINTS} points in ${seconds.toFixed(1)} s (${PER_EVENT} per event): ${(frames.length / total).toFixed(1)} fps on average, frame p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, longest ${(sorted.at(-1) ?? 0).toFixed(1)} ms, ${frames.filter((f) => f > 1000 / 30).length} of ${frames.length} frames over 33 ms`,
  );
} finally {
  await browser.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await app.yoga.dispose();
  await database.close();
}

/** Waits until the chart says it draws up to `step` (polled from here: the page's CSP forbids eval). */
async function drawnUpTo(page: Page, step: number, timeoutMs = 30_000) {
  const chart = page.getByRole('img', { name: 'Loss curve' });
  const until = performance.now() + timeoutMs;
  while (Number(await chart.getAttribute('data-last-step').catch(() => null)) !== step) {
    if (performance.now() > until) throw new Error('the chart did not draw its points in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
