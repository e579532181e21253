// The function's PostgreSQL pool (through RDS Proxy when configured), opened on first use.

import { createDb, type Db } from '../../lib/db/pool.ts';
import type { LambdaEnvironment } from '../environment.ts';

let db: Db | undefined;

export function lambdaDb({ config, logger }: LambdaEnvironment): Db {
  if (config.database.mode !== 'external') throw new Error('no database configured');
  db ??= createDb({
    target: config.database.api,
    pool: config.pool,
    applicationName: `${config.service}-${config.stage}`,
    onIdleError: (error) => logger.warn('idle database connection failed', { error }),
  });
  return db;
}
