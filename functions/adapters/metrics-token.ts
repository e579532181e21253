// GET /metrics on AWS: its bearer token from the Secrets Manager secret METRICS_TOKEN_SECRET_NAME, read on the first
// scrape and again every five minutes, so that a rotation is picked up.

import type { Context } from 'aws-lambda';
import type { AwsClient } from '../../lib/aws/client.ts';
import { type Config, isMetricsToken, MIN_METRICS_TOKEN_LENGTH } from '../../lib/config/config.ts';
import { arnParts } from '../environment.ts';
import { readSecretString, secretsClient } from './secrets.ts';

const TOKEN_CACHE_MS = 5 * 60_000;

/** A reader per invocation's context, sharing one cache; undefined when /metrics reads no secret. */
export function metricsTokenReader(
  config: Config,
  newClient: (region: string) => AwsClient = secretsClient,
): ((context: Context) => () => Promise<string>) | undefined {
  const access = config.metricsAccess;
  if (access.kind !== 'secret') return undefined;
  let client: AwsClient | undefined;
  let cached: { token: string; expires: number } | undefined;
  return (context) => async () => {
    if (cached && cached.expires > Date.now()) return cached.token;
    client ??= newClient(arnParts(context).region);
    const token = (await readSecretString(context, access.secretName, client)).trim();
    if (!isMetricsToken(token))
      throw new Error(
        `secret ${access.secretName} must hold the token itself: at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces`,
      );
    cached = { token, expires: Date.now() + TOKEN_CACHE_MS };
    return token;
  };
}
