// Applies or reverts migrations with node-pg-migrate, always over a direct (non-proxy) connection.
// Kept apart from migrations.ts so that the API bundle does not load node-pg-migrate.

import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { EXIT, LoadwatchError } from '../errors.ts';
import { clientConfig } from './connection.ts';
import { findMigrationsDir, MIGRATIONS_TABLE } from './migrations.ts';
import type { DatabaseTarget } from './target.ts';

/** A migrate request that cannot be carried out as written (exit code 2 on the command line). */
export class MigrateUsageError extends LoadwatchError {
  declare readonly code: 'MIGRATE_USAGE' | 'MIGRATE_BEYOND_APPLIED';
  declare readonly problems: string[];
  constructor(message: string, code: MigrateUsageError['code'] = 'MIGRATE_USAGE') {
    super(message, { code, status: 400, exitCode: EXIT.usage, problems: [message] });
  }
}

export interface MigrateOptions {
  target: DatabaseTarget;
  direction: 'up' | 'down';
  /** How many to apply or revert; up defaults to all pending, down to one. */
  count?: number;
  /** Revert every applied migration: down never does that unless asked to by name. */
  all?: boolean;
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
    const count = options.all
      ? Number.POSITIVE_INFINITY
      : (options.count ?? (options.direction === 'up' ? Number.POSITIVE_INFINITY : 1));
    if (options.direction === 'down' && !options.all) await refuseBeyondApplied(client, count);
    const ran = await runner({
      dbClient: client,
      dir: findMigrationsDir(),
      migrationsTable: MIGRATIONS_TABLE,
      direction: options.direction,
      count,
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

/**
 * node-pg-migrate reverts min(count, applied), so "down 9" on three migrations would silently empty the
 * database: a count beyond what is applied is refused instead, and reverting everything needs `all`.
 */
async function refuseBeyondApplied(client: pg.Client, count: number): Promise<void> {
  const exists = await client.query<{ table: string | null }>('SELECT to_regclass($1) AS table', [
    MIGRATIONS_TABLE,
  ]);
  const applied =
    exists.rows[0]?.table === null
      ? 0
      : Number(
          (await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${MIGRATIONS_TABLE}`)).rows[0]
            ?.count ?? 0,
        );
  if (count <= applied) return;
  const wanted = `count: cannot revert ${count} migration${count === 1 ? '' : 's'}`;
  throw new MigrateUsageError(
    applied === 0
      ? `${wanted}, none is applied`
      : `${wanted}, only ${applied} ${applied === 1 ? 'is' : 'are'} applied; to revert every one, use --all (or "all": true)`,
    'MIGRATE_BEYOND_APPLIED',
  );
}
