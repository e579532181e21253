// MetricsSink for CloudWatch PutMetricData: batched within the API's limits and retried on throttling.

import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Metric, MetricsSink } from './sink.ts';

/** PutMetricData takes at most 1,000 metrics and 1 MB per call; stay well inside both. */
export const METRICS_PER_CALL = 500;
const MAX_ATTEMPTS = 4;

export interface CloudWatchSinkOptions {
  namespace: string;
  client?: Pick<CloudWatchClient, 'send'>;
  region?: string;
  sleep?: (ms: number) => Promise<void>;
}

function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return /Throttl|TooManyRequests|RequestLimitExceeded/.test(name) || status === 429 || status === 503;
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
  const client = options.client ?? new CloudWatchClient({ region: options.region, maxAttempts: 1 });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    description: `CloudWatch namespace ${options.namespace}`,
    async put(metrics) {
      for (let start = 0; start < metrics.length; start += METRICS_PER_CALL) {
        const batch = metrics.slice(start, start + METRICS_PER_CALL).map(toDatum);
        for (let attempt = 1; ; attempt++) {
          try {
            await client.send(new PutMetricDataCommand({ Namespace: options.namespace, MetricData: batch }));
            break;
          } catch (error) {
            if (!isThrottle(error) || attempt >= MAX_ATTEMPTS) throw error;
            // Exponential backoff with full jitter: 100 ms, then up to 200, 400 ms.
            await sleep(Math.random() * 100 * 2 ** (attempt - 1));
          }
        }
      }
    },
  };
}
