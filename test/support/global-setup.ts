import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.ts';
import { adminUrl, TEMPLATE_DUMP, templateDatabaseName, withDatabase } from './databases.ts';

/**
 * Migrates a template database once per run: a PGlite dump on disk, and, when DATABASE_URL is
 * set, a PostgreSQL template database. Each test then copies the template (fast) instead of
 * migrating from scratch.
 */
export default async function setup(project: TestProject) {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const template = templateDatabaseName();
    const admin = adminUrl(databaseUrl);
    await withDatabase(admin, async (sql) => {
      await sql.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      await sql.unsafe(`CREATE DATABASE "${template}"`);
    });
    const database = await openDatabase({
      kind: 'postgres',
      url: withDbName(databaseUrl, template),
    });
    await database.migrate();
    await database.close();
    project.provide('pgTemplate', template);
    return async () => {
      await withDatabase(admin, (sql) =>
        sql.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`),
      );
    };
  }
  const database = await openDatabase({ kind: 'pglite' });
  await database.migrate();
  const dump = await database.pglite?.dumpDataDir('none');
  await database.close();
  if (!dump) throw new Error('PGlite dump failed');
  mkdirSync(path.dirname(TEMPLATE_DUMP), { recursive: true });
  writeFileSync(TEMPLATE_DUMP, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgTemplate', '');
}

function withDbName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
  }
}
