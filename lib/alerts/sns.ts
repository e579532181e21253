// AlertSink for SNS: subject within SNS limits, readable body with the JSON detail, filterable attributes.

import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AlertSink, Notification } from './sink.ts';

/** SNS subjects: at most 100 characters, printable ASCII, no line breaks. */
export function snsSubject(subject: string): string {
  const clean = subject
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return clean.length <= 100 ? clean : `${clean.slice(0, 99)}…`.replace('…', '.');
}

export function snsMessage(notification: Notification): string {
  return `${notification.message}\n\n---\n${JSON.stringify(notification.detail, null, 2)}\n`;
}

export interface SnsSinkOptions {
  topicArn: string;
  client?: Pick<SNSClient, 'send'>;
  region?: string;
}

export function createSnsSink(options: SnsSinkOptions): AlertSink {
  const client = options.client ?? new SNSClient({ region: options.region });
  return {
    description: `SNS topic ${options.topicArn}`,
    async publish(notification) {
      const attributes: Record<string, { DataType: 'String'; StringValue: string }> = {
        severity: { DataType: 'String', StringValue: notification.severity },
      };
      if (notification.deduplicationId) {
        attributes.dedupe = { DataType: 'String', StringValue: notification.deduplicationId };
      }
      for (const [name, value] of Object.entries(notification.attributes ?? {})) {
        attributes[name] = { DataType: 'String', StringValue: value };
      }
      await client.send(
        new PublishCommand({
          TopicArn: options.topicArn,
          Subject: snsSubject(notification.subject),
          Message: snsMessage(notification),
          MessageAttributes: attributes,
        }),
      );
    },
  };
}
