// Webhook URLs and signing secrets on Lambda: one Secrets Manager secret, read by its partial ARN once per container.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { webhookSecrets } from '../../functions/adapters/webhooks.ts';
import { SECRETS_MANAGER } from '../../lib/aws/client.ts';
import { loadConfig } from '../../lib/config/config.ts';
import {
  type AwsRecorder,
  decodedBody,
  type RecordedRequest,
  startAwsRecorder,
  stubRecorderEnvironment,
} from '../support/aws-recorder.ts';
import { lambdaContext } from '../support/gateway-event.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

const SECRET_KEY = 'secret';
const SECRET_NAME = 'loadwatch-test-webhooks';
const ONCALL = { url: 'https://hooks.example.com/oncall', signingSecret: 'sign-me' };

const answer = (secret: unknown) => ({
  status: 200,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify({ Name: SECRET_NAME, SecretString: JSON.stringify(secret) }),
});

describe('webhookSecrets on Lambda', () => {
  let recorder: AwsRecorder;
  const config = () =>
    loadConfig({
      AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-test-monitor',
      AWS_REGION: 'eu-west-1',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x',
      ALERT_WEBHOOKS: 'oncall:json:critical',
      ALERT_WEBHOOK_SECRET_NAME: SECRET_NAME,
    });

  beforeAll(async () => {
    recorder = await startAwsRecorder(answer({ oncall: ONCALL }));
  });
  beforeEach(() => {
    recorder.reset();
    stubRecorderEnvironment(SECRETS_MANAGER.endpointVariable, recorder.url, SECRET_KEY);
  });
  afterEach(() => vi.unstubAllEnvs());
  afterAll(() => recorder?.close());

  it('reads the secret once by its partial ARN, signed, and hands every webhook its URL and signing secret', async () => {
    const read = webhookSecrets(config());
    const context = lambdaContext(10_000);
    expect(await read(context)).toEqual({ oncall: ONCALL });
    expect(await read(context)).toEqual({ oncall: ONCALL });
    expect(recorder.requests).toHaveLength(1);
    const request = recorder.requests[0] as RecordedRequest;
    expect(request.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(decodedBody(request))).toEqual({
      SecretId: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET_NAME}`,
    });
    expect(verifySigV4(request, SECRET_KEY).valid).toBe(true);
  });

  it('names the webhook the secret lacks, and reads the secret again on the next invocation', async () => {
    recorder.enqueue(answer({ other: ONCALL }));
    const read = webhookSecrets(config());
    const context = lambdaContext(10_000);
    await expect(read(context)).rejects.toThrow(
      `${SECRET_NAME}: "oncall".url is missing or not an http(s) URL`,
    );
    expect(await read(context)).toEqual({ oncall: ONCALL });
    expect(recorder.requests).toHaveLength(2);
  });
});
