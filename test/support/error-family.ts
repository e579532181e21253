// One of each member of the error family, built as the code that throws it does, with the fields it must carry.

import { AwsRequestError } from '../../lib/aws/client.ts';
import { UsageError } from '../../lib/cli/usage-error.ts';
import { ConfigError } from '../../lib/config/config.ts';
import {
  DatabaseTimeoutError,
  DatabaseUnavailableError,
  MigrationsPendingError,
  PoolExhaustedError,
} from '../../lib/db/errors.ts';
import { MigrateUsageError } from '../../lib/db/migration-runner.ts';
import type { LoadwatchError } from '../../lib/errors.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { InvalidEventError } from '../../lib/lambda/events.ts';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { ConcurrencyLimitError } from '../../lib/loadtest/store.ts';
import { EmbeddedPostgresError } from '../../lib/local/embedded-postgres.ts';
import { LocalStackError } from '../../lib/local/stack.ts';
import { CheckConfigError } from '../../lib/monitor/checks.ts';

export interface MemberFields {
  code: string;
  status: number;
  exitCode: number;
  expose: boolean;
}

export const MEMBERS: Array<[LoadwatchError, MemberFields]> = [
  [
    new ConfigError(['PORT: "x" is not a port']),
    { code: 'CONFIG_INVALID', status: 500, exitCode: 2, expose: false },
  ],
  [
    new CheckConfigError('checks.json', ['checks: empty']),
    { code: 'CHECKS_INVALID', status: 500, exitCode: 2, expose: false },
  ],
  [
    new LoadTestInputError(['users: -1 is not at least 1']),
    { code: 'INVALID_LOADTEST', status: 400, exitCode: 2, expose: true },
  ],
  [new UsageError('unknown flag --x'), { code: 'USAGE', status: 400, exitCode: 2, expose: true }],
  [
    new MigrateUsageError('count: not used with status'),
    { code: 'MIGRATE_USAGE', status: 400, exitCode: 2, expose: true },
  ],
  [
    new MigrateUsageError('only 1 applied', 'MIGRATE_BEYOND_APPLIED'),
    { code: 'MIGRATE_BEYOND_APPLIED', status: 400, exitCode: 2, expose: true },
  ],
  [
    new InvalidEventError('an event', ['action: missing'], 'events/x.json'),
    { code: 'INVALID_EVENT', status: 400, exitCode: 2, expose: true },
  ],
  [
    new ConcurrencyLimitError(2, ['a', 'b']),
    { code: 'LOADTEST_CONCURRENCY_LIMIT', status: 429, exitCode: 1, expose: true },
  ],
  [
    new HttpError(404, 'NOT_FOUND', 'no load test x'),
    { code: 'NOT_FOUND', status: 404, exitCode: 1, expose: true },
  ],
  [
    new HttpError(503, 'TIMEOUT', 'out of time', { expose: true }),
    { code: 'TIMEOUT', status: 503, exitCode: 1, expose: true },
  ],
  [new PoolExhaustedError(0.2), { code: 'DB_POOL_EXHAUSTED', status: 503, exitCode: 1, expose: false }],
  [
    new DatabaseUnavailableError('ECONNREFUSED'),
    { code: 'DB_UNAVAILABLE', status: 503, exitCode: 1, expose: false },
  ],
  [
    new AwsRequestError('Step Functions StartExecution: ThrottlingException (HTTP 400)', {
      awsCode: 'ThrottlingException',
      httpStatus: 400,
    }),
    { code: 'AWS_REQUEST_FAILED', status: 502, exitCode: 1, expose: false },
  ],
  [
    new MigrationsPendingError('relation "runs" does not exist'),
    { code: 'DB_MIGRATIONS_PENDING', status: 503, exitCode: 1, expose: false },
  ],
  [new DatabaseTimeoutError(1500), { code: 'DB_TIMEOUT', status: 503, exitCode: 1, expose: false }],
  [
    new LocalStackError('PORT_IN_USE', 'port 3000 is taken'),
    { code: 'PORT_IN_USE', status: 500, exitCode: 2, expose: false },
  ],
  [
    new LocalStackError('STACK_FAILED', 'the API did not start'),
    { code: 'STACK_FAILED', status: 500, exitCode: 1, expose: false },
  ],
  [
    new EmbeddedPostgresError('initdb failed'),
    { code: 'EMBEDDED_POSTGRES_FAILED', status: 500, exitCode: 1, expose: false },
  ],
  [
    new EmbeddedPostgresError('in use', { code: 'DATA_DIR_IN_USE' }),
    { code: 'DATA_DIR_IN_USE', status: 500, exitCode: 2, expose: false },
  ],
];
