// The migrate action shared by the CLI and the migrate Lambda: parse, run, report.

import { MigrateUsageError, runMigrations } from './migration-runner.ts';
import { type MigrationStatus, migrationStatus } from './migrations.ts';
import { createDb } from './pool.ts';
import { LAMBDA_POOL_DEFAULTS } from './pool-settings.ts';
import { RDS_CA_BUNDLE } from './rds-ca.ts';
import type { DatabaseConfig, DatabaseTarget } from './target.ts';

export { MigrateUsageError };

export interface MigrateRequest {
  action: 'up' | 'down' | 'status';
  count?: number;
  /** Every pending (up) or every applied (down) migration; down needs it to empty the database. */
  all?: boolean;
}

export interface MigrateResult {
  action: MigrateRequest['action'];
  /** Migrations applied (up) or reverted (down) by this run, in the order they ran. */
  ran: string[];
  status: Pick<MigrationStatus, 'current' | 'latest' | 'pending' | 'applied'>;
}

export function parseMigrateRequest(input: unknown): MigrateRequest {
  const event = (input ?? {}) as Record<string, unknown>;
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new MigrateUsageError('expected an object like {"action":"up"}');
  }
  const unknown = Object.keys(event).filter((key) => !['action', 'count', 'all'].includes(key));
  if (unknown.length > 0) {
    throw new MigrateUsageError(`${unknown[0]}: not a migrate field (action, count, all)`);
  }
  const action = event.action ?? 'up';
  if (action !== 'up' && action !== 'down' && action !== 'status') {
    throw new MigrateUsageError(`action: "${String(action)}" is not one of up, down, status`);
  }
  const count = event.count;
  if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 1)) {
    throw new MigrateUsageError(`count: ${JSON.stringify(count)} is not a whole number of at least 1`);
  }
  if (count !== undefined && action === 'status') throw new MigrateUsageError('count: not used with status');
  const all = event.all;
  if (all !== undefined && typeof all !== 'boolean') {
    throw new MigrateUsageError(`all: ${JSON.stringify(all)} is not true or false`);
  }
  if (all === true && action === 'status') throw new MigrateUsageError('all: not used with status');
  if (all === true && count !== undefined)
    throw new MigrateUsageError('all: give either count or all, not both');
  return { action, ...(count === undefined ? {} : { count }), ...(all === true ? { all } : {}) };
}

export function migrationTarget(config: { database: DatabaseConfig }): DatabaseTarget {
  if (config.database.mode !== 'external') throw new Error('no database configured');
  const target = config.database.migrations;
  if (!target) {
    throw new MigrateUsageError(
      'DB_DIRECT_ENDPOINT: required for migrations (they hold an advisory lock, which RDS Proxy would pin)',
    );
  }
  // Migrations connect to the instance itself, whose certificate only the RDS CA bundle verifies.
  return { ...target, rdsCa: RDS_CA_BUNDLE };
}

export async function runMigrateRequest(
  target: DatabaseTarget,
  request: MigrateRequest,
  log: (line: string) => void = () => undefined,
): Promise<MigrateResult> {
  const ran =
    request.action === 'status'
      ? []
      : await runMigrations({
          target,
          direction: request.action,
          count: request.count,
          all: request.all,
          log,
        });
  const db = createDb({ target, pool: { ...LAMBDA_POOL_DEFAULTS }, applicationName: 'loadwatch-migrate' });
  try {
    const { applied, current, latest, pending } = await migrationStatus(db);
    return { action: request.action, ran, status: { applied, current, latest, pending } };
  } finally {
    await db.close();
  }
}

export function migrateCommand(
  config: { database: DatabaseConfig },
  request: MigrateRequest,
  log?: (line: string) => void,
) {
  return runMigrateRequest(migrationTarget(config), request, log);
}
