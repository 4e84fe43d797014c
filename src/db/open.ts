import { mkdirSync } from 'node:fs';
import path from 'node:path';
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
    const database = await migrated(await openDatabase({ kind: 'pglite', dataDir }));
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

async function migrated(database: Database): Promise<Database> {
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
