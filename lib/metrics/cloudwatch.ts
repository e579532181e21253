// MetricsSink for CloudWatch PutMetricData: batched within the API's limits, throttling and 5xx answers retried.

import { type AwsClient, CLOUDWATCH, createAwsClient } from '../aws/client.ts';
import type { Metric, MetricsSink } from './sink.ts';

/** PutMetricData takes at most 1,000 metrics and 1 MB per call; stay well inside both. */
export const METRICS_PER_CALL = 500;
/** Requests per batch, the first included: throttling, 5xx answers and broken connections are tried again. */
export const MAX_ATTEMPTS = 4;

/** One metric as awsJson1_0 carries it: the timestamp in epoch seconds. */
export type MetricDatum = ReturnType<typeof toDatum>;

export interface CloudWatchSinkOptions {
  namespace: string;
  /** A client of the caller's, which then retries as it was built to. */
  client?: Pick<AwsClient, 'call'>;
  region?: string;
  /** The wait before retry n (1, 2, 3) of the sink's own client; unset, exponential backoff with full jitter. */
  retryDelayMs?: (retry: number) => number;
}

export function toDatum(metric: Metric) {
  return {
    MetricName: metric.name,
    Value: metric.value,
    Unit: metric.unit,
    Timestamp: (metric.timestamp ?? new Date()).getTime() / 1000,
    Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
  };
}

export function createCloudWatchSink(options: CloudWatchSinkOptions): MetricsSink {
  const client =
    options.client ??
    createAwsClient({
      service: CLOUDWATCH,
      region: options.region,
      maxAttempts: MAX_ATTEMPTS,
      ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
    });
  return {
    description: `CloudWatch namespace ${options.namespace}`,
    async put(metrics) {
      for (let start = 0; start < metrics.length; start += METRICS_PER_CALL) {
        const batch = metrics.slice(start, start + METRICS_PER_CALL).map(toDatum);
        await client.call('PutMetricData', { Namespace: options.namespace, MetricData: batch });
      }
    },
  };
}
