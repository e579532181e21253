// The migrate action shared by the CLI and the migrate Lambda: parse, run, report.

import * as v from 'valibot';
import { issueLines } from '../validation/issues.ts';
import { isJsonObject } from '../validation/rules.ts';
import { MigrateUsageError, runMigrations } from './migration-runner.ts';
import { type MigrationStatus, migrationStatus } from './migrations.ts';
import { createDb } from './pool.ts';
import { LAMBDA_POOL_DEFAULTS } from './pool-settings.ts';
import { RDS_CA_BUNDLE } from './rds-ca.ts';
import type { DatabaseConfig, DatabaseTarget } from './target.ts';

export { MigrateUsageError };

const ACTIONS = ['up', 'down', 'status'] as const;

const countProblem = (issue: v.BaseIssue<unknown>) =>
  `${JSON.stringify(issue.input)} is not a whole number of at least 1`;

/** The migrate Lambda's event and the CLI's arguments; no event at all means up. */
const MIGRATE_REQUEST = v.nullish(
  v.pipe(
    v.custom<Record<string, unknown>>(isJsonObject, 'expected an object like {"action":"up"}'),
    v.strictObject(
      {
        action: v.optional(
          v.picklist(ACTIONS, (issue) => `"${String(issue.input)}" is not one of ${ACTIONS.join(', ')}`),
          'up',
        ),
        count: v.optional(
          v.pipe(v.number(countProblem), v.integer(countProblem), v.minValue(1, countProblem)),
        ),
        /** Every pending (up) or every applied (down) migration; down needs it to empty the database. */
        all: v.optional(
          v.pipe(
            v.boolean((issue) => `${JSON.stringify(issue.input)} is not true or false`),
            // `all: false` says nothing more than its absence.
            v.transform((all) => (all ? true : undefined)),
          ),
        ),
      },
      'not a migrate field (action, count, all)',
    ),
    v.forward(
      v.partialCheck(
        [['action'], ['count']],
        (request) => !(request.action === 'status' && request.count !== undefined),
        'not used with status',
      ),
      ['count'],
    ),
    v.forward(
      v.partialCheck(
        [['action'], ['all']],
        (request) => !(request.action === 'status' && request.all === true),
        'not used with status',
      ),
      ['all'],
    ),
    v.forward(
      v.partialCheck(
        [['count'], ['all']],
        (request) => !(request.all === true && request.count !== undefined),
        'give either count or all, not both',
      ),
      ['all'],
    ),
  ),
  {},
);

export type MigrateRequest = v.InferOutput<typeof MIGRATE_REQUEST>;

export interface MigrateResult {
  action: MigrateRequest['action'];
  /** Migrations applied (up) or reverted (down) by this run, in the order they ran. */
  ran: string[];
  status: Pick<MigrationStatus, 'current' | 'latest' | 'pending' | 'applied'>;
}

export function parseMigrateRequest(input: unknown): MigrateRequest {
  const result = v.safeParse(MIGRATE_REQUEST, input);
  if (!result.success) throw new MigrateUsageError(issueLines(result.issues).join('; '));
  return result.output;
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
  if (config.database.mode !== 'external') throw new Error('no database configured');
  const target = config.database.migrations;
  if (!target) {
    throw new MigrateUsageError(
      'DB_DIRECT_ENDPOINT: required for migrations (they hold an advisory lock, which RDS Proxy would pin)',
    );
  }
  // Migrations connect to the instance itself, whose certificate only the RDS CA bundle verifies.
  return runMigrateRequest({ ...target, rdsCa: RDS_CA_BUNDLE }, request, log);
}
