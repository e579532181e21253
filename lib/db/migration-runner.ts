// Applies or reverts migrations with node-pg-migrate, always over a direct (non-proxy) connection.
// Kept apart from migrations.ts so that the API bundle does not load node-pg-migrate.

import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { DatabaseTarget } from '../config/config.ts';
import { clientConfig } from './connection.ts';
import { findMigrationsDir, MIGRATIONS_TABLE } from './migrations.ts';

export interface MigrateOptions {
  target: DatabaseTarget;
  direction: 'up' | 'down';
  /** How many to apply or revert; up defaults to all pending, down to one. */
  count?: number;
  dir?: string;
  log?: (line: string) => void;
}

/**
 * Applies or reverts migrations. Concurrent runs serialize on an advisory lock (fine on a direct
 * connection, never through the proxy): the second waits, then finds nothing left to do.
 */
export async function runMigrations(options: MigrateOptions): Promise<string[]> {
  if (options.target.via === 'proxy') {
    throw new Error('migrations must run against the direct database endpoint, not RDS Proxy');
  }
  const client = new pg.Client({ ...clientConfig(options.target), application_name: 'loadwatch-migrate' });
  await client.connect();
  const log = options.log ?? (() => undefined);
  try {
    const ran = await runner({
      dbClient: client,
      dir: options.dir ?? findMigrationsDir(),
      migrationsTable: MIGRATIONS_TABLE,
      direction: options.direction,
      count: options.count ?? (options.direction === 'up' ? Number.POSITIVE_INFINITY : 1),
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: { debug: () => undefined, info: log, warn: log, error: log },
    });
    return ran.map((migration) => migration.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}
