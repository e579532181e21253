// Adapters built once per cold start and shared by every invocation of the container.

import type { Context } from 'aws-lambda';
import type { AlertSink } from '../lib/alerts/sink.ts';
import { createSnsSink } from '../lib/alerts/sns.ts';
import { type Config, ConfigError, loadConfig } from '../lib/config/config.ts';
import { createDb, type Db } from '../lib/db/pool.ts';
import { type CapacityCheck, createCapacityCheck } from '../lib/loadtest/capacity.ts';
import { createLambdaConcurrencyReader } from '../lib/loadtest/lambda-capacity.ts';
import type { ExecutionStarter } from '../lib/loadtest/launcher.ts';
import { createStepFunctionsStarter, stateMachineArn } from '../lib/loadtest/step-functions.ts';
import { LoadTestStore } from '../lib/loadtest/store.ts';
import { createLogger, type Logger } from '../lib/log/logger.ts';
import { createCloudWatchSink } from '../lib/metrics/cloudwatch.ts';
import type { MetricsSink } from '../lib/metrics/sink.ts';

export interface LambdaDeps {
  config: Config;
  logger: Logger;
  /** The pool for the function's own queries (through RDS Proxy when configured). */
  db: () => Db;
  loadTests: () => LoadTestStore;
  metrics: () => MetricsSink;
  /** Undefined when no topic is configured. */
  alerts: (context: Context) => AlertSink | undefined;
  starter: (context: Context) => ExecutionStarter;
  /** The Lambda concurrency preflight for the runs this function starts. */
  capacity: (context: Context) => CapacityCheck;
  dimensions: Record<string, string>;
}

/** arn:aws:lambda:REGION:ACCOUNT:function:NAME → its partition, region and account. */
export function arnParts(context: Pick<Context, 'invokedFunctionArn'>) {
  const [, partition = 'aws', , region = '', accountId = ''] = context.invokedFunctionArn.split(':');
  return { partition, region, accountId };
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
  let metrics: MetricsSink | undefined;
  let alerts: AlertSink | undefined;
  let starter: ExecutionStarter | undefined;
  let capacity: CapacityCheck | undefined;
  const getDb = () => {
    if (config.database.mode !== 'external') throw new Error('no database configured');
    db ??= createDb({
      target: config.database.api,
      pool: config.pool,
      applicationName: `${config.service}-${config.stage}`,
      onIdleError: (error) => logger.warn('idle database connection failed', { error }),
    });
    return db;
  };
  return {
    config,
    logger,
    db: getDb,
    loadTests: () => new LoadTestStore(getDb()),
    metrics: () => {
      metrics ??= createCloudWatchSink({ namespace: config.aws.metricsNamespace, region: config.region });
      return metrics;
    },
    alerts: (context) => {
      if (!config.aws.alertTopicName) return undefined;
      const { partition, region, accountId } = arnParts(context);
      alerts ??= createSnsSink({
        topicArn: `arn:${partition}:sns:${region}:${accountId}:${config.aws.alertTopicName}`,
        region,
      });
      return alerts;
    },
    starter: (context) => {
      const name = config.aws.stateMachineName;
      if (!name)
        throw new ConfigError(['LOADTEST_STATE_MACHINE_NAME: is required to start load tests on AWS']);
      const { partition, region, accountId } = arnParts(context);
      starter ??= createStepFunctionsStarter({
        stateMachineArn: stateMachineArn(region, accountId, name, partition),
        region,
      });
      return starter;
    },
    capacity: (context) => {
      const name = config.aws.loadtestWorkerFunctionName;
      if (!name)
        throw new ConfigError([
          'LOADTEST_WORKER_FUNCTION_NAME: is required to check Lambda concurrency before load tests on AWS',
        ]);
      capacity ??= createCapacityCheck({
        read: createLambdaConcurrencyReader({ functionName: name, region: arnParts(context).region }),
        reserve: config.loadtest.concurrencyReserve,
      });
      return capacity;
    },
    dimensions: { Service: config.service, Stage: config.stage },
  };
}

let cached: LambdaDeps | undefined;

export function lambdaDeps(): LambdaDeps {
  cached ??= load();
  return cached;
}
