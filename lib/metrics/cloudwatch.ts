// MetricsSink for CloudWatch PutMetricData: batched within the API's limits, throttling retried by the SDK itself.

import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { Metric, MetricsSink } from './sink.ts';

/** PutMetricData takes at most 1,000 metrics and 1 MB per call; stay well inside both. */
export const METRICS_PER_CALL = 500;
/** Requests per batch, the first included: the SDK's standard strategy retries throttling and 5xx answers. */
export const MAX_ATTEMPTS = 4;

export interface CloudWatchSinkOptions {
  namespace: string;
  /** A client of the caller's, which then retries as it was built to. */
  client?: Pick<CloudWatchClient, 'send'>;
  region?: string;
  /**
   * The wait before retry n (1, 2, 3) of the sink's own client; unset, the SDK's exponential backoff with jitter,
   * which starts higher for throttling.
   */
  retryDelayMs?: (retry: number) => number;
}

export function toDatum(metric: Metric): MetricDatum {
  return {
    MetricName: metric.name,
    Value: metric.value,
    Unit: metric.unit,
    Timestamp: metric.timestamp ?? new Date(),
    Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
  };
}

export function createCloudWatchSink(options: CloudWatchSinkOptions): MetricsSink {
  const client =
    options.client ??
    new CloudWatchClient({
      region: options.region,
      maxAttempts: MAX_ATTEMPTS,
      ...(options.retryDelayMs
        ? { retryStrategy: new ConfiguredRetryStrategy(MAX_ATTEMPTS, options.retryDelayMs) }
        : {}),
    });
  return {
    description: `CloudWatch namespace ${options.namespace}`,
    async put(metrics) {
      for (let start = 0; start < metrics.length; start += METRICS_PER_CALL) {
        const batch = metrics.slice(start, start + METRICS_PER_CALL).map(toDatum);
        await client.send(new PutMetricDataCommand({ Namespace: options.namespace, MetricData: batch }));
      }
    },
  };
}
