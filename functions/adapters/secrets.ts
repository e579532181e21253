// Secrets Manager on AWS: the text of a secret of this function's account and region, found by its name.

import type { Context } from 'aws-lambda';
import { type AwsClient, createAwsClient, SECRETS_MANAGER } from '../../lib/aws/client.ts';
import { arnParts, secretArn } from '../environment.ts';

export const secretsClient = (region: string): AwsClient =>
  createAwsClient({ service: SECRETS_MANAGER, region });

/** The secret's SecretString ('' for a binary secret), read by its partial ARN (the name, without the suffix). */
export async function readSecretString(
  context: Context,
  name: string,
  client: AwsClient = secretsClient(arnParts(context).region),
): Promise<string> {
  const answer = await client.call<{ SecretString?: string }>('GetSecretValue', {
    SecretId: secretArn(context, name),
  });
  return answer.SecretString ?? '';
}
