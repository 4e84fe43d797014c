/**
 * The compiled start (`npm run build:server`, run by `npm ci` through `prepare`): the server and
 * its trainer worker bundled by esbuild into dist/server/, so that `npm start` transpiles nothing;
 * and a migrated, empty PGlite data directory that a new DATA_DIR starts from.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openDatabase } from '../src/db/client.ts';
import { PGLITE_TEMPLATE } from '../src/db/open.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Left to node_modules: PGlite and tesseract.js find their wasm, data and worker files next to
 * their own modules; pino starts pino-pretty by name in a worker thread; graphql must stay the
 * one CommonJS instance that every library shares; GraphiQL's page is 9 MB of inlined assets.
 * Everything else is bundled: most of the start's time went into resolving and compiling a
 * thousand small modules (drizzle-orm alone re-reads its 180 KB package.json for each of them).
 */
const EXTERNAL = [
  '@electric-sql/pglite',
  'tesseract.js',
  '@tesseract.js-data/*',
  'pino',
  'pino-pretty',
  'postgres',
  'graphql',
  '@graphql-yoga/render-graphiql',
];

async function bundleServer() {
  await build({
    absWorkingDir: repoRoot,
    // Two levels below the root like src/<folder>/, so that the sources' paths relative to
    // import.meta.url (drizzle/, web/dist, demo/, the worker entry) hold in the bundle too.
    outdir: 'dist/server',
    entryPoints: [
      { in: 'src/main.ts', out: 'main' },
      // src/training/trainers/builtin/worker.ts starts `./worker-entry.mjs` next to itself
      { in: 'src/training/trainers/builtin/worker-main.ts', out: 'worker-entry' },
    ],
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: EXTERNAL,
    // bundled CommonJS packages call require() for Node's built-ins
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    sourcemap: true,
    logLevel: 'warning',
  });
}

/** Rebuilt only when PGlite or the migrations changed: it takes as long as an initdb. */
async function writePgliteTemplate() {
  const inputs = ['package-lock.json', 'drizzle/meta/_journal.json'];
  const built = statSync(PGLITE_TEMPLATE, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (inputs.every((input) => statSync(path.join(repoRoot, input)).mtimeMs <= built)) return;
  const database = await openDatabase({ kind: 'pglite' });
  try {
    await database.migrate();
    const dump = await database.pglite?.dumpDataDir('gzip');
    if (!dump) throw new Error('no PGlite instance to dump');
    mkdirSync(path.dirname(PGLITE_TEMPLATE), { recursive: true });
    writeFileSync(PGLITE_TEMPLATE, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await database.close();
  }
}

const started = performance.now();
await bundleServer();
await writePgliteTemplate();
console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
