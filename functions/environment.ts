// What every Lambda entry builds first, once per cold start: its configuration and its logger.

import type { Context } from 'aws-lambda';
import { type Config, ConfigError, loadConfig } from '../lib/config/config.ts';
import { createLogger, type Logger } from '../lib/log/logger.ts';

export interface LambdaEnvironment {
  config: Config;
  /** The container's logger; each invocation logs through a child carrying its context (invocationLogger). */
  logger: Logger;
}

let cached: LambdaEnvironment | undefined;

export function lambdaEnvironment(): LambdaEnvironment {
  if (cached) return cached;
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
  cached = { config, logger };
  return cached;
}

/** arn:aws:lambda:REGION:ACCOUNT:function:NAME → its partition, region and account. */
export function arnParts(context: Pick<Context, 'invokedFunctionArn'>) {
  const [, partition = 'aws', , region = '', accountId = ''] = context.invokedFunctionArn.split(':');
  return { partition, region, accountId };
}

/**
 * A secret's ARN without the six random characters Secrets Manager appends to its name: GetSecretValue finds the
 * secret by this partial ARN, and the IAM grant matches it with "-??????".
 */
export function secretArn(context: Pick<Context, 'invokedFunctionArn'>, name: string): string {
  const { partition, region, accountId } = arnParts(context);
  return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${name}`;
}

/**
 * An adapter built from the first invocation's context (the ARN names the account and region) and kept for
 * the container's life; `build` runs again only if it threw.
 */
export function perContainer<T>(build: (context: Context) => T): (context: Context) => T {
  let built: { value: T } | undefined;
  return (context) => {
    built ??= { value: build(context) };
    return built.value;
  };
}
