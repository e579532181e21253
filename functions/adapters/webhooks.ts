// Webhook channels on AWS: their URLs and signing secrets from one Secrets Manager secret, read once per container.

import type { Context } from 'aws-lambda';
import { parseWebhookSecret, type WebhookSecrets } from '../../lib/alerts/webhook-channels.ts';
import { createAwsClient, SECRETS_MANAGER } from '../../lib/aws/client.ts';
import type { Config } from '../../lib/config/config.ts';
import { arnParts, secretArn } from '../environment.ts';

/** Resolves to {} when no webhook is configured; a failed read is tried again on the next invocation. */
export function webhookSecrets(config: Config): (context: Context) => Promise<WebhookSecrets> {
  let read: Promise<WebhookSecrets> | undefined;
  return (context) => {
    const { webhooks, webhookSecretName } = config.alerts;
    if (webhooks.length === 0 || webhookSecretName === undefined) return Promise.resolve({});
    read ??= (async () => {
      const client = createAwsClient({ service: SECRETS_MANAGER, region: arnParts(context).region });
      const answer = await client.call<{ SecretString?: string }>('GetSecretValue', {
        SecretId: secretArn(context, webhookSecretName),
      });
      return parseWebhookSecret(
        answer.SecretString ?? '',
        webhookSecretName,
        webhooks.map((webhook) => webhook.name),
      );
    })().catch((error: unknown) => {
      read = undefined;
      throw error;
    });
    return read;
  };
}
