// The configured channels: the SNS topic (the console locally) and each webhook, with the URL and signing secret
// given in the environment locally or read from one Secrets Manager secret on AWS.

import { ConfigError } from '../errors.ts';
import { isHttpUrl } from '../validation/rules.ts';
import { type AlertChannel, type AlertSettings, PRIMARY_CHANNEL } from './channels.ts';
import type { AlertSink } from './sink.ts';
import { createWebhookSink } from './webhook.ts';

export type WebhookSecrets = Record<string, { url: string; signingSecret?: string }>;

/** Reads the secret's JSON ({"<webhook>": {"url", "signingSecret"}}), naming every webhook it lacks or holds wrong. */
export function parseWebhookSecret(text: string, secretName: string, names: string[]): WebhookSecrets {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError([`${secretName}: the secret is not JSON {"<webhook>": {"url": "https://..."}}`]);
  }
  const problems: string[] = [];
  const secrets: WebhookSecrets = {};
  for (const name of names) {
    const entry = (raw as Record<string, { url?: unknown; signingSecret?: unknown } | undefined>)?.[name];
    if (typeof entry?.url !== 'string' || !isHttpUrl(entry.url)) {
      problems.push(`${secretName}: "${name}".url is missing or not an http(s) URL`);
      continue;
    }
    if (entry.signingSecret !== undefined && typeof entry.signingSecret !== 'string')
      problems.push(`${secretName}: "${name}".signingSecret is not a string`);
    else
      secrets[name] = {
        url: entry.url,
        ...(typeof entry.signingSecret === 'string' ? { signingSecret: entry.signingSecret } : {}),
      };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}

/** The SNS channel (or its local stand-in) and the webhooks; `secrets` holds what the environment did not give. */
export function alertChannels(
  settings: AlertSettings,
  primary: AlertSink,
  secrets: WebhookSecrets = {},
): AlertChannel[] {
  const channels: AlertChannel[] = [
    { name: PRIMARY_CHANNEL, severities: settings.snsSeverities, sink: primary },
  ];
  for (const webhook of settings.webhooks) {
    const secret = secrets[webhook.name];
    const url = webhook.url ?? secret?.url;
    if (url === undefined) throw new ConfigError([`webhook "${webhook.name}": no URL configured`]);
    channels.push({
      name: webhook.name,
      severities: webhook.severities,
      sink: createWebhookSink({
        name: webhook.name,
        url,
        format: webhook.format,
        signingSecret: webhook.signingSecret ?? secret?.signingSecret,
      }),
    });
  }
  return channels;
}
