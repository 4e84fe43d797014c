import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, types } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export type DatabaseOptions =
  | {
      /** Embedded PostgreSQL (PGlite). No dataDir: in memory. */
      kind: 'pglite';
      dataDir?: string;
      /** A `dumpDataDir()` tarball to start from (tests use it to skip initdb). */
      loadDataDir?: Blob;
      onQuery?: (sql: string) => void;
    }
  | {
      kind: 'postgres';
      url: string;
      maxConnections?: number;
      onQuery?: (sql: string) => void;
    };

export type Database = {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Applies pending migrations from drizzle/. */
  migrate(): Promise<void>;
  /** Reachable and every migration of drizzle/ applied: the readiness check. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
  /** The raw PGlite instance (tests dump it), when embedded. */
  pglite?: PGlite;
  /** The raw postgres.js client, when on a server (LISTEN/NOTIFY needs it). */
  sql?: postgres.Sql;
};

/** How many migrations drizzle/ holds; a ready database has applied all of them. */
function expectedMigrations(): number {
  const journal = JSON.parse(
    readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'),
  );
  return (journal.entries as unknown[]).length;
}

const APPLIED_MIGRATIONS = 'select count(*)::int as n from drizzle.__drizzle_migrations';

function queryLogger(onQuery?: (sql: string) => void): DrizzleLogger | undefined {
  return onQuery ? { logQuery: (query) => onQuery(query) } : undefined;
}

/**
 * bytea parameters as they are: PGlite's Bind message sends a parameter that is a byte view in
 * the binary format, which the database copies as it is. Its own serializer (and a hex one)
 * builds text twice the size that the database then decodes, on the thread that also serves the
 * API, and checkpoints and model artifacts are bytea of up to several MB. (PGlite's type says a
 * serializer returns a string; its Bind takes byte views too.)
 * Results come back as hex text, read through Buffer: PGlite's own conversion goes byte by byte
 * through JS arrays and strings, about a second per MB.
 */
const byteaAsBinary = (value: Uint8Array) => value as unknown as string;
const byteaFromHex = (text: string) => Buffer.from(text.slice(2), 'hex');

/**
 * postgres.js's own TCP sockets keep Nagle's algorithm on; then a short message right after a
 * large one (the COMMIT after a batch of imported documents) waits for the server's delayed
 * ACK, about 40 ms each time. libpq turns it off too. A custom socket replaces postgres.js's
 * choice among several hosts, so a multi-host URL (failover) keeps postgres.js's own sockets.
 */
export function withoutDelay(url: string) {
  const hosts = url.match(/^[^:]+:\/\/(?:[^@/]*@)?([^/?]*)/)?.[1] ?? '';
  if (hosts.includes(',')) return {};
  return {
    // postgres.js's "custom socket" option, missing from its type declarations
    socket: ({ host, port, path }: { host: string[]; port: number[]; path: string }) =>
      path
        ? net.connect(path)
        : net.connect({ host: host[0], port: port[0] ?? 5432, noDelay: true }),
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const logger = queryLogger(options.onQuery);
  if (options.kind === 'postgres') {
    const sql = postgres(options.url, {
      max: options.maxConnections ?? 10,
      ...withoutDelay(options.url),
      onnotice: () => {},
      connection: { application_name: 'training-api' },
    });
    const db = drizzlePostgres(sql, { schema, logger }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      sql,
      migrate: () => migratePostgres(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
      isReady: async () => {
        const [row] = await sql.unsafe(APPLIED_MIGRATIONS);
        return row?.n >= expectedMigrations();
      },
      close: () => sql.end({ timeout: 5 }),
    };
  }

  if (options.dataDir) mkdirSync(path.dirname(options.dataDir), { recursive: true });
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    serializers: { [types.BYTEA]: byteaAsBinary },
    parsers: { [types.BYTEA]: byteaFromHex },
  });
  const db = drizzlePglite(pglite, { schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    pglite,
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    isReady: async () => {
      const { rows } = await pglite.query<{ n: number }>(APPLIED_MIGRATIONS);
      return (rows[0]?.n ?? 0) >= expectedMigrations();
    },
    close: () => pglite.close(),
  };
}
