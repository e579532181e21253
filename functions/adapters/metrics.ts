// Metrics to CloudWatch in the configured namespace, and the dimensions every function's metrics carry.

import type { Config } from '../../lib/config/config.ts';
import { createCloudWatchSink } from '../../lib/metrics/cloudwatch.ts';
import type { MetricsSink } from '../../lib/metrics/sink.ts';

export function cloudWatchMetrics(config: Config): MetricsSink {
  return createCloudWatchSink({ namespace: config.aws.metricsNamespace, region: config.region });
}

export function serviceDimensions(config: Config): Record<string, string> {
  return { Service: config.service, Stage: config.stage };
}
