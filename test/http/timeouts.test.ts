import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi } from '../../lib/api/create-api.ts';
import { loadConfig } from '../../lib/config/config.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { createDb } from '../../lib/db/pool.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { gatewayEvent, lambdaContext } from '../support/gateway-event.ts';

describe('timeouts under a slow database', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi | undefined;
  let locker: pg.Client | undefined;

  afterEach(async () => {
    await locker?.query('ROLLBACK').catch(() => undefined);
    await locker?.end();
    locker = undefined;
    await api?.close();
    api = undefined;
  });

  /** Holds an exclusive lock on table until the test ends, as a long migration or a stuck transaction would. */
  async function lock(table: string): Promise<void> {
    locker = new pg.Client({ connectionString: postgres.database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  }

  const answer = async (path: string) => {
    const started = performance.now();
    const response = await fetch(`${api?.url}${path}`);
    const body = (await response.json()) as { error?: { code: string }; status?: string; reason?: string };
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      code: body.error?.code,
      body,
      ms: performance.now() - started,
    };
  };

  it('answers 503 with Retry-After to every request while a lock holds the table, never 500', async () => {
    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      DB_POOL_SIZE: '2',
      DB_MAX_OVERFLOW: '0',
      DB_STATEMENT_TIMEOUT: '300',
      DB_POOL_TIMEOUT: '1',
      API_HANDLER_TIMEOUT: '2500',
      READINESS_TIMEOUT: '500',
    });
    await lock('loadtest_runs');
    const answers = await Promise.all(Array.from({ length: 100 }, () => answer('/v1/loadtests?limit=1')));
    for (const { status, retryAfter, code, ms } of answers) {
      expect({ status, code: ['DB_TIMEOUT', 'DB_POOL_EXHAUSTED'].includes(code ?? '') }).toEqual({
        status: 503,
        code: true,
      });
      expect(retryAfter).toMatch(/^\d+$/);
      expect(ms).toBeLessThan(2500);
    }
    expect(answers.some((item) => item.code === 'DB_TIMEOUT')).toBe(true);
  });

  it('answers 503 TIMEOUT at the handler deadline when no statement timeout is set', async () => {
    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      DB_STATEMENT_TIMEOUT: '0',
      DB_POOL_TIMEOUT: '1',
      API_HANDLER_TIMEOUT: '1500',
      READINESS_TIMEOUT: '400',
    });
    await lock('loadtest_runs');
    const slow = await answer('/v1/loadtests?limit=1');
    expect(slow).toMatchObject({ status: 503, code: 'TIMEOUT', retryAfter: '5' });
    expect(slow.ms).toBeGreaterThanOrEqual(1400);
    expect(slow.ms).toBeLessThan(2500);
  });

  it("on Lambda answers 503 before the invocation's own end when that comes before API_HANDLER_TIMEOUT", async () => {
    const config = loadConfig({
      AWS_LAMBDA_FUNCTION_NAME: 'api',
      DATABASE_URL: postgres.database.url,
      DB_STATEMENT_TIMEOUT: '0',
    });
    const db = createDb({ target: postgres.database.target, pool: config.pool });
    const handler = createApi({
      config,
      db,
      logger: createLogger({ level: 'error', write: () => undefined }),
      knownMigrations: listMigrations(),
      starter: { start: async (runId) => `arn:test:${runId}` },
    });
    try {
      await lock('loadtest_runs');
      const started = performance.now();
      const result = await handler(gatewayEvent({ path: '/v1/loadtests?limit=1' }), lambdaContext(1500));
      const ms = performance.now() - started;
      expect(result.statusCode).toBe(503);
      expect(result.headers?.['Retry-After']).toBe('5');
      expect(JSON.parse(result.body ?? '{}')).toMatchObject({ error: { code: 'TIMEOUT' } });
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(1500);
    } finally {
      await locker?.query('ROLLBACK');
      await db.close();
    }
  });

  it('answers /health/ready 503 when its round trip takes longer than READINESS_TIMEOUT', async () => {
    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      DB_STATEMENT_TIMEOUT: '0',
      DB_POOL_TIMEOUT: '1',
      API_HANDLER_TIMEOUT: '3000',
      READINESS_TIMEOUT: '400',
    });
    expect((await answer('/health/ready')).status).toBe(200);
    await lock('pgmigrations');
    const ready = await answer('/health/ready');
    expect(ready).toMatchObject({
      status: 503,
      retryAfter: '5',
      body: { status: 'unavailable', reason: 'database round trip over 400 ms' },
    });
    expect(ready.ms).toBeLessThan(1500);
  });
});
