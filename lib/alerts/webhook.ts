// AlertSink for an HTTP webhook: a generic JSON body or a Slack-compatible incoming-webhook body, signed when a
// secret is set, with the message's idempotency key so that a receiver can drop a repeat.

import { createHmac } from 'node:crypto';
import type { AlertSink, Notification } from './sink.ts';

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Headers of every webhook request. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const SIGNATURE_HEADER = 'x-loadwatch-signature';
export const TIMESTAMP_HEADER = 'x-loadwatch-timestamp';

const WEBHOOK_TIMEOUT_MS = 5000;

export interface WebhookSinkOptions {
  name: string;
  url: string;
  format: WebhookFormat;
  /** HMAC-SHA256 key: the receiver recomputes `sha256=` over "<timestamp>.<body>". */
  signingSecret?: string;
  timeoutMs?: number;
  now?: () => Date;
}

/** The signature of a body sent at `timestamp` (Unix seconds), as the signature header carries it. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The key a receiver deduplicates on: the same for every retry of one message. */
export function idempotencyKey(notification: Notification): string {
  return notification.deduplicationId ?? `${notification.subject}@${String(notification.detail.at ?? '')}`;
}

export function jsonWebhookBody(notification: Notification): Record<string, unknown> {
  return {
    id: idempotencyKey(notification),
    subject: notification.subject,
    message: notification.message,
    severity: notification.severity,
    attributes: notification.attributes ?? {},
    detail: notification.detail,
  };
}

const SLACK_COLORS = { critical: '#cf222e', warning: '#9a6700', info: '#1a7f37' } as const;

/** Slack's incoming-webhook shape: `text` for notifications and clients without attachments, one coloured attachment. */
export function slackWebhookBody(notification: Notification): Record<string, unknown> {
  // Slack reads &, < and > as markup; the message quotes what a target answered.
  const slackText = (value: string) =>
    value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    text: slackText(notification.subject),
    attachments: [
      {
        color: SLACK_COLORS[notification.severity],
        title: slackText(notification.subject),
        text: slackText(notification.message),
        footer: `loadwatch · ${idempotencyKey(notification)}`,
      },
    ],
  };
}

export function createWebhookSink(options: WebhookSinkOptions): AlertSink {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const shown = new URL(options.url);
  return {
    // The URL's path may be its secret (Slack's are): only the origin is shown.
    description: `webhook "${options.name}" (${options.format}, ${shown.origin})`,
    async publish(notification) {
      const body = JSON.stringify(
        options.format === 'slack' ? slackWebhookBody(notification) : jsonWebhookBody(notification),
      );
      const timestamp = String(Math.floor(now().getTime() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        [IDEMPOTENCY_HEADER]: idempotencyKey(notification),
        [TIMESTAMP_HEADER]: timestamp,
      };
      if (options.signingSecret)
        headers[SIGNATURE_HEADER] = webhookSignature(options.signingSecret, timestamp, body);
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : (error as Error).message;
        throw new Error(`webhook "${options.name}": ${reason}`, { cause: error });
      }
      // Read the body so that the connection is released; a receiver's answer says little more than its status.
      const answer = await response.text().catch(() => '');
      if (!response.ok)
        throw new Error(
          `webhook "${options.name}" answered ${response.status}${answer ? `: ${answer.slice(0, 200)}` : ''}`,
        );
    },
  };
}
