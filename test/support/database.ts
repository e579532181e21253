// A fresh, empty database per test file, dropped afterwards, on the run's real PostgreSQL.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type { DatabaseTarget } from '../../lib/config/config.ts';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { createDb, type Db } from '../../lib/db/pool.ts';
import { urlTarget } from '../../lib/local/stack.ts';

export interface TestDatabase {
  url: string;
  target: DatabaseTarget;
  /** Runs SQL as the server's superuser on this database (for faults such as pg_terminate_backend). */
  admin<T extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<T>>;
  drop(): Promise<void>;
}

export function serverUrl(database = 'postgres'): string {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createTestDatabase(prefix = 'lw_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const root = new pg.Client({ connectionString: serverUrl() });
  await root.connect();
  await root.query(`CREATE DATABASE ${root.escapeIdentifier(name)}`);
  await root.end();
  const url = serverUrl(name);
  return {
    url,
    target: urlTarget(url),
    async admin(sql, params) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A small pool on a test database: no recycling, no statement timeout, five seconds to get a connection. */
export function testPool(target: DatabaseTarget, size = 2): Db {
  return createDb({
    target,
    pool: { size, maxOverflow: size, recycleSeconds: 0, timeoutSeconds: 5, statementTimeoutMs: 0 },
  });
}

/** A migrated test database, set before the describe block's tests run. */
export interface MigratedDatabase {
  readonly database: TestDatabase;
}

export interface MigratedDatabaseWithPool extends MigratedDatabase {
  readonly db: Db;
}

/**
 * Registers the describe block's hooks: before its tests a fresh database with every migration applied (and, given
 * `poolSize`, a testPool on it); after them the pool closed and the database dropped. Hooks the block registers
 * later run after these before the tests and before these after them.
 */
export function useMigratedDatabase(options: { poolSize: number }): MigratedDatabaseWithPool;
export function useMigratedDatabase(): MigratedDatabase;
export function useMigratedDatabase(options?: { poolSize: number }): MigratedDatabaseWithPool {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    await runMigrations({ target: database.target, direction: 'up' });
    if (options) db = testPool(database.target, options.poolSize);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });
  const early = (what: string) =>
    new Error(`the test ${what} is opened in beforeAll: read it in a hook or a test`);
  return {
    get database() {
      if (!database) throw early('database');
      return database;
    },
    get db() {
      if (!db) throw early(options ? 'pool' : 'pool (pass poolSize)');
      return db;
    },
  };
}
