import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { metricsTokenReader } from '../../functions/adapters/metrics-token.ts';
import { createApi } from '../../lib/api/create-api.ts';
import { createAwsClient, SECRETS_MANAGER } from '../../lib/aws/client.ts';
import { loadConfig } from '../../lib/config/config.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { createDb, type Db } from '../../lib/db/pool.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { type AwsRecorder, decodedBody, startAwsRecorder } from '../support/aws-recorder.ts';
import { configProblems } from '../support/config.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { gatewayEvent, lambdaContext } from '../support/gateway-event.ts';

const TOKEN = 'scrape-token-0123456789';
const SECRET_NAME = 'loadwatch-test-metrics-token';
const LAMBDA = { AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-test-api', AWS_REGION: 'eu-west-1' };

const secretAnswer = (secret: string) => ({
  status: 200,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify({
    ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET_NAME}-AbCdEf`,
    Name: SECRET_NAME,
    SecretString: secret,
  }),
});

describe('GET /metrics on Lambda behind the token of METRICS_TOKEN_SECRET_NAME', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let recorder: AwsRecorder;
  let db: Db;

  const handler = () => {
    const config = loadConfig({
      ...LAMBDA,
      DATABASE_URL: postgres.database.url,
      METRICS_TOKEN_SECRET_NAME: SECRET_NAME,
    });
    const metricsToken = metricsTokenReader(config, (region) =>
      createAwsClient({
        service: SECRETS_MANAGER,
        endpoint: recorder.url,
        region,
        credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
        maxAttempts: 1,
      }),
    );
    expect(metricsToken).toBeDefined();
    return createApi({
      config,
      db,
      logger: createLogger({ level: 'error', write: () => undefined }),
      knownMigrations: listMigrations(),
      starter: () => ({ start: async (runId) => `arn:test:${runId}` }),
      ...(metricsToken ? { metricsToken } : {}),
    });
  };
  const scrape = (api: ReturnType<typeof handler>, authorization?: string) =>
    api(
      gatewayEvent({ path: '/metrics', headers: authorization ? { authorization } : {} }),
      lambdaContext(10_000),
    );

  beforeAll(async () => {
    recorder = await startAwsRecorder(secretAnswer(TOKEN));
    db = createDb({ target: postgres.database.target, pool: loadConfig({}).pool });
  });
  beforeEach(() => recorder.reset());
  afterAll(async () => {
    await db?.close();
    await recorder?.close();
  });

  it('answers 200 to the secret token and 401 to any other, reading the secret once by its partial ARN', async () => {
    const api = handler();
    expect((await scrape(api)).statusCode).toBe(401);
    expect((await scrape(api, 'Bearer wrong-token-0123456789')).statusCode).toBe(401);
    const scraped = await scrape(api, `Bearer ${TOKEN}`);
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toContain('# EOF');
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(decodedBody(request as NonNullable<typeof request>))).toEqual({
      SecretId: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET_NAME}`,
    });
  });

  it('answers 503 without showing why when the secret holds no usable token, and never opens /metrics', async () => {
    recorder.enqueue(secretAnswer('short'));
    const api = handler();
    const refused = await scrape(api, 'Bearer short');
    expect(refused.statusCode, refused.body).toBe(503);
    const body = JSON.parse(refused.body ?? '{}') as { error: { code: string; message: string } };
    expect(body.error.code).toBe('METRICS_TOKEN_UNAVAILABLE');
    expect(body.error.message).not.toContain(SECRET_NAME);
    // The failed read is not cached: the next scrape reads the secret again, now holding a token.
    expect((await scrape(api, `Bearer ${TOKEN}`)).statusCode).toBe(200);
    expect(recorder.requests).toHaveLength(2);
  });

  it('takes the secret name on Lambda only, and not together with METRICS_TOKEN', () => {
    expect(
      loadConfig({ ...LAMBDA, DATABASE_URL: postgres.database.url, METRICS_TOKEN_SECRET_NAME: SECRET_NAME })
        .metricsAccess,
    ).toEqual({ kind: 'secret', secretName: SECRET_NAME });
    expect(configProblems({ METRICS_TOKEN_SECRET_NAME: SECRET_NAME })).toContain(
      'METRICS_TOKEN_SECRET_NAME: is read on Lambda only; set METRICS_TOKEN here',
    );
    expect(
      configProblems({
        ...LAMBDA,
        DATABASE_URL: postgres.database.url,
        METRICS_TOKEN_SECRET_NAME: SECRET_NAME,
        METRICS_TOKEN: TOKEN,
      }),
    ).toContain('METRICS_TOKEN_SECRET_NAME: give it or METRICS_TOKEN, not both');
    expect(metricsTokenReader(loadConfig({ METRICS_TOKEN: TOKEN }))).toBeUndefined();
  });
});
