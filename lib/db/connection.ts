// Turns a configured database target into pg connection settings: TLS, IAM tokens, Secrets Manager.

import type { ConnectionOptions } from 'node:tls';
import type { ClientConfig } from 'pg';
import { ConfigError } from '../errors.ts';
import type { DatabaseTarget, SslMode } from './target.ts';

/**
 * RDS Proxy presents certificates from AWS Certificate Manager, which chain to the Amazon roots in Node's default
 * trust store; an RDS instance presents one signed by an RDS CA, which only the RDS CA bundle verifies.
 */
export function tlsOptions(
  mode: SslMode,
  via: DatabaseTarget['via'] = 'direct',
  rdsCa?: readonly string[],
): ConnectionOptions | false {
  if (mode === 'disable') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  if (via === 'proxy') return { rejectUnauthorized: true };
  if (!rdsCa) {
    throw new ConfigError([
      'DB_SSL: verify on a direct connection needs the RDS CA bundle, which this function does not carry; connect through DB_PROXY_ENDPOINT',
    ]);
  }
  return { ca: [...rdsCa], rejectUnauthorized: true };
}

const SECRET_CACHE_MS = 5 * 60_000;

/** A password source that reads the secret at most every five minutes, so rotation is picked up. */
export function secretPassword(
  secretArn: string,
  region: string,
  client?: import('../aws/client.ts').AwsClient,
): () => Promise<string> {
  // The signer loads on first use, so a container that authenticates otherwise never evaluates it.
  let secrets: import('../aws/client.ts').AwsClient | undefined = client;
  let cached: { password: string; expires: number } | undefined;
  return async () => {
    if (cached && cached.expires > Date.now()) return cached.password;
    if (!secrets) {
      const aws = await import('../aws/client.ts');
      secrets = aws.createAwsClient({ service: aws.SECRETS_MANAGER, region });
    }
    const result = await secrets.call<{ SecretString?: string }>('GetSecretValue', { SecretId: secretArn });
    const secret = JSON.parse(result.SecretString ?? '{}') as { password?: unknown };
    if (typeof secret.password !== 'string') {
      throw new Error(`secret ${secretArn} has no "password" field`);
    }
    cached = { password: secret.password, expires: Date.now() + SECRET_CACHE_MS };
    return secret.password;
  };
}

/** A fresh IAM token for every new connection: tokens live 15 minutes, connections longer. */
export function iamPassword(target: DatabaseTarget, region: string): () => Promise<string> {
  let signer: import('@aws-sdk/rds-signer').Signer | undefined;
  return async () => {
    const { Signer } = await import('@aws-sdk/rds-signer');
    signer ??= new Signer({ hostname: target.host, port: target.port, username: target.user, region });
    return signer.getAuthToken();
  };
}

export function clientConfig(target: DatabaseTarget): ClientConfig {
  const base: ClientConfig =
    target.url !== undefined
      ? { connectionString: target.url }
      : { host: target.host, port: target.port, database: target.database, user: target.user };
  if (target.ssl !== 'url') base.ssl = tlsOptions(target.ssl, target.via, target.rdsCa);
  if (target.auth.kind === 'iam') base.password = iamPassword(target, target.auth.region);
  if (target.auth.kind === 'secret')
    base.password = secretPassword(target.auth.secretArn, target.auth.region);
  return base;
}
