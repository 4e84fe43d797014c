/**
 * `npm run import -- FILE.jsonl`: imports a JSON Lines file into the configured database
 * (DATABASE_URL, or PGlite in DATA_DIR), streaming it in batches, so a file of any size loads in
 * flat memory. Exit code 0 when at least one line was valid, 1 otherwise (or on failure), 2 on
 * wrong usage.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pino } from 'pino';
import { loadConfig } from '../config.ts';
import type { ImportProgress } from '../dataset/import.ts';
import { createDatasetService } from '../dataset/service.ts';
import { openConfiguredDatabase } from '../db/open.ts';
import { EventBus } from '../events/bus.ts';
import { startPgRelay } from '../events/pg-relay.ts';
import type { AppTopics } from '../events/topics.ts';
import { getJob } from '../training/jobs.ts';
import { progressReporter } from './import-progress.ts';

const SHOWN_ERRORS = 20;

async function main(args: string[]): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0 || file.startsWith('-')) {
    process.stderr.write('usage: npm run import -- FILE.jsonl\n');
    return 2;
  }
  let totalBytes: number;
  try {
    totalBytes = (await stat(file)).size;
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
    return 1;
  }

  const database = await openConfiguredDatabase(loadConfig());
  // Servers on the same PostgreSQL hear of each stored batch and drop their cached counts.
  const events = new EventBus<AppTopics>();
  const relay = database.sql
    ? await startPgRelay({
        sql: database.sql,
        events,
        readJob: (id) => getJob(database.db, id),
        logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
      })
    : undefined;
  const dataset = createDatasetService(database.db, events);
  let bytesRead = 0;
  let last: ImportProgress | undefined;
  const progress = progressReporter({
    totalBytes,
    bytesRead: () => bytesRead,
    tty: Boolean(process.stderr.isTTY),
    write: (text) => process.stderr.write(text),
  });
  async function* counted(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      bytesRead += chunk.length;
      yield chunk;
    }
  }

  const started = performance.now();
  try {
    const result = await dataset.importStream(counted(createReadStream(file)), (p) => {
      last = p;
      progress.update(p);
    });
    progress.done();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const out = [
      `${file}: ${result.added} added, ${result.skipped} skipped (already stored), ${result.rejected} rejected, in ${seconds} s`,
    ];
    if (result.errors.length > 0) {
      out.push(
        `first rejected lines:`,
        ...result.errors.slice(0, SHOWN_ERRORS).map((e) => `  ${e}`),
      );
      if (result.rejected > SHOWN_ERRORS)
        out.push(`  … and ${result.rejected - SHOWN_ERRORS} more`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    if (result.added + result.skipped === 0) {
      process.stderr.write(`${file}: no valid document in the file\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    progress.done();
    const stored = last ? `${last.added} documents were stored before (whole batches only)` : '';
    process.stderr.write(`import failed: ${(error as Error).message}\n${stored}\n`);
    return 1;
  } finally {
    await relay?.stop();
    await database.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
