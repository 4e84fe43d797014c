/**
 * One measured import, in its own process so that its peak RSS is its own: imports FILE into
 * the configured database (DATABASE_URL, or PGlite in DATA_DIR) and prints one JSON line.
 */
import { createReadStream } from 'node:fs';
import { loadConfig } from '../../src/config.ts';
import { importStream } from '../../src/dataset/import.ts';
import { openConfiguredDatabase } from '../../src/db/open.ts';

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: import-once.ts FILE');
const database = await openConfiguredDatabase(loadConfig());
const started = performance.now();
const result = await importStream(database.db, createReadStream(file));
const seconds = (performance.now() - started) / 1000;
await database.close();
console.log(
  JSON.stringify({
    ...result,
    errors: result.errors.length,
    seconds: Number(seconds.toFixed(2)),
    docsPerSecond: Math.round((result.added + result.skipped) / seconds),
    // resourceUsage reports kilobytes
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
