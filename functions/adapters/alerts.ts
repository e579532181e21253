// Alerts through the stack's SNS topic, whose ARN the first invocation's context completes.

import type { Context } from 'aws-lambda';
import type { AlertSink } from '../../lib/alerts/sink.ts';
import { createSnsSink } from '../../lib/alerts/sns.ts';
import type { Config } from '../../lib/config/config.ts';
import { arnParts, perContainer } from '../environment.ts';

/** Undefined when no topic is configured. */
export function snsAlerts(config: Config): (context: Context) => AlertSink | undefined {
  return perContainer((context) => {
    if (!config.aws.alertTopicName) return undefined;
    const { partition, region, accountId } = arnParts(context);
    return createSnsSink({
      topicArn: `arn:${partition}:sns:${region}:${accountId}:${config.aws.alertTopicName}`,
      region,
    });
  });
}
