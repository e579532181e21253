// A fresh, empty database per test file, dropped afterwards, on the run's real PostgreSQL.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { DatabaseTarget } from '../../lib/config/config.ts';
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
