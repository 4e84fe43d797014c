import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase } from './client.ts';
import { lockDirectory } from './dir-lock.ts';

/**
 * The application's database as configured: PostgreSQL at DATABASE_URL, else PGlite in
 * DATA_DIR (locked against a second process); migrated. The server and the command-line tools
 * open it the same way.
 */
export async function openConfiguredDatabase(config: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<Database> {
  if (config.databaseUrl)
    return migrated(await openDatabase({ kind: 'postgres', url: config.databaseUrl }));
  const dataDir = path.join(config.dataDir, 'pglite');
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lockDirectory(`${dataDir}.lock`);
  try {
    const database = await migrated(
      await openDatabase({ kind: 'pglite', dataDir, loadDataDir: templateFor(dataDir) }),
    );
    return {
      ...database,
      close: async () => {
        await database.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

/**
 * A migrated, empty PGlite data directory, dumped by `npm run build:server` (which `npm ci`
 * runs): a new data directory starts from it in about a second instead of the ~5 s of PGlite's
 * initdb. Two levels up from both src/db/ and the bundle in dist/server/.
 */
export const PGLITE_TEMPLATE = fileURLToPath(
  new URL('../../dist/pglite-template.tar.gz', import.meta.url),
);

function templateFor(dataDir: string): Blob | undefined {
  if (existsSync(path.join(dataDir, 'PG_VERSION')) || !existsSync(PGLITE_TEMPLATE))
    return undefined;
  return new Blob([readFileSync(PGLITE_TEMPLATE)]);
}

async function migrated(database: Database): Promise<Database> {
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
