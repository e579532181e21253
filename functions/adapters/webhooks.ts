// Webhook channels on AWS: their URLs and signing secrets from one Secrets Manager secret, read once per container.

import type { Context } from 'aws-lambda';
import { parseWebhookSecret, type WebhookSecrets } from '../../lib/alerts/webhook-channels.ts';
import type { Config } from '../../lib/config/config.ts';
import { readSecretString } from './secrets.ts';

/** Resolves to {} when no webhook is configured; a failed read is tried again on the next invocation. */
export function webhookSecrets(config: Config): (context: Context) => Promise<WebhookSecrets> {
  let read: Promise<WebhookSecrets> | undefined;
  return (context) => {
    const { webhooks, webhookSecretName } = config.alerts;
    if (webhooks.length === 0 || webhookSecretName === undefined) return Promise.resolve({});
    const names = webhooks.map((webhook) => webhook.name);
    read ??= readSecretString(context, webhookSecretName)
      .then((secret) => parseWebhookSecret(secret, webhookSecretName, names))
      .catch((error: unknown) => {
        read = undefined;
        throw error;
      });
    return read;
  };
}
