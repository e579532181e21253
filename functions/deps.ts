// Adapters built once per cold start and shared by every invocation of the container.

import { type Config, ConfigError, loadConfig } from '../lib/config/config.ts';
import { createDb, type Db } from '../lib/db/pool.ts';
import { createLogger, type Logger } from '../lib/log/logger.ts';

export interface LambdaDeps {
  config: Config;
  logger: Logger;
  /** The pool for the API's own queries (through RDS Proxy when configured). */
  db: () => Db;
}

function load(): LambdaDeps {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Fail the cold start loudly with every problem, rather than fail each request obscurely.
      createLogger().error('invalid configuration', { problems: error.problems });
    }
    throw error;
  }
  const logger = createLogger({
    level: config.logLevel,
    fields: { service: config.service, stage: config.stage },
  });
  let db: Db | undefined;
  return {
    config,
    logger,
    db: () => {
      if (config.database.mode !== 'external') throw new Error('no database configured');
      db ??= createDb({
        target: config.database.api,
        pool: config.pool,
        applicationName: `${config.service}-${config.stage}`,
        onIdleError: (error) => logger.warn('idle database connection failed', { error }),
      });
      return db;
    },
  };
}

let cached: LambdaDeps | undefined;

export function lambdaDeps(): LambdaDeps {
  cached ??= load();
  return cached;
}
