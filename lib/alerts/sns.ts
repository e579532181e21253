// AlertSink for SNS: subject within SNS limits, readable body with the JSON detail, filterable attributes.

import { type AwsClient, createAwsClient, SNS } from '../aws/client.ts';
import type { AlertSink, Notification } from './sink.ts';

/** SNS subjects: at most 100 characters, printable ASCII, no line breaks. */
export function snsSubject(subject: string): string {
  const clean = subject
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  // Cut to 99 and a full stop: an ellipsis is not ASCII.
  return clean.length <= 100 ? clean : `${clean.slice(0, 99)}.`;
}

export function snsMessage(notification: Notification): string {
  return `${notification.message}\n\n---\n${JSON.stringify(notification.detail, null, 2)}\n`;
}

/** Publish's form fields: the message, its subject, and each attribute as a String (entries numbered from 1). */
export function publishParameters(topicArn: string, notification: Notification): Record<string, string> {
  const attributes: Record<string, string> = { severity: notification.severity };
  if (notification.deduplicationId) attributes.dedupe = notification.deduplicationId;
  Object.assign(attributes, notification.attributes);
  const parameters: Record<string, string> = {
    TopicArn: topicArn,
    Message: snsMessage(notification),
    Subject: snsSubject(notification.subject),
  };
  Object.entries(attributes).forEach(([name, value], index) => {
    const entry = `MessageAttributes.entry.${index + 1}`;
    parameters[`${entry}.Name`] = name;
    parameters[`${entry}.Value.DataType`] = 'String';
    parameters[`${entry}.Value.StringValue`] = value;
  });
  return parameters;
}

export interface SnsSinkOptions {
  topicArn: string;
  /** Signs and sends the query-protocol Publish; one for SNS in the region unless given. */
  client?: Pick<AwsClient, 'query'>;
  region?: string;
}

export function createSnsSink(options: SnsSinkOptions): AlertSink {
  const client = options.client ?? createAwsClient({ service: SNS, region: options.region });
  return {
    description: `SNS topic ${options.topicArn}`,
    async publish(notification) {
      // A refusal rejects (AwsRequestError), so the outbox keeps the alert and tries again later.
      await client.query('Publish', publishParameters(options.topicArn, notification));
    },
  };
}
