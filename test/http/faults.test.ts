import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, PoolExhaustedError } from '../../lib/db/errors.ts';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { createApiHandler } from '../../lib/http/app.ts';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../lib/local/embedded-postgres.ts';
import { createLocalServer } from '../../lib/local/http-adapter.ts';
import { urlTarget } from '../../lib/local/stack.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { listenLocally } from '../support/listen.ts';

describe('error responses', () => {
  const logs: string[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const driverError = Object.assign(new Error('relation "secret_table" does not exist'), { code: '42P01' });
    const handler = createApiHandler({
      routes: [
        {
          method: 'GET',
          path: '/driver-error',
          handler: () => {
            throw driverError;
          },
        },
        {
          method: 'GET',
          path: '/unavailable',
          handler: () => {
            throw new DatabaseUnavailableError('ECONNREFUSED');
          },
        },
        {
          method: 'GET',
          path: '/exhausted',
          handler: () => {
            throw new PoolExhaustedError(7);
          },
        },
      ],
      deps: {},
      cors: { origins: ['https://app.example.com'], credentials: false, maxAgeSeconds: 60 },
      logger: createLogger({ write: (line) => logs.push(line) }),
    });
    server = createLocalServer({ handler });
    url = await listenLocally(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hides driver messages and stack traces behind a generic 500, and logs them', async () => {
    const response = await fetch(`${url}/driver-error`, { headers: { origin: 'https://app.example.com' } });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(text).not.toMatch(/secret_table|at |\.ts:/);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(logs.some((line) => line.includes('secret_table'))).toBe(true);
  });

  it('answers 503 with Retry-After when the database is unavailable or the pool is exhausted', async () => {
    const unavailable = await fetch(`${url}/unavailable`);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(await unavailable.json()).toMatchObject({ error: { code: 'DB_UNAVAILABLE' } });
    const exhausted = await fetch(`${url}/exhausted`);
    expect(exhausted.status).toBe(503);
    expect(exhausted.headers.get('retry-after')).toBe('7');
    expect(await exhausted.json()).toMatchObject({ error: { code: 'DB_POOL_EXHAUSTED' } });
  });
});

describe('readiness when the database stops', () => {
  const dataDir = scratchDataDir('fault');
  let postgres: EmbeddedPostgresHandle;
  let api: RunningApi;

  beforeAll(async () => {
    postgres = await startEmbeddedPostgres({ dataDir: dataDir.path });
    await runMigrations({ target: urlTarget(postgres.url), direction: 'up' });
    api = await startApiServer({
      DATABASE_URL: postgres.url,
      DB_POOL_TIMEOUT: '2',
      DB_STATEMENT_TIMEOUT: '1500',
      DB_POOL_SIZE: '2',
    });
  });
  afterAll(async () => {
    await api?.close();
    await postgres?.stop();
    dataDir.remove();
  });

  it('answers 503 within the pool timeout while PostgreSQL is down, and 200 once it is back', async () => {
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
    await postgres.stop();
    const started = performance.now();
    const down = await fetch(`${api.url}/health/ready`);
    const elapsed = performance.now() - started;
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'unavailable', reason: 'database unreachable' });
    expect(elapsed).toBeLessThan(2500);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);

    postgres = await startEmbeddedPostgres({ dataDir: dataDir.path, port: postgres.port });
    const up = await fetch(`${api.url}/health/ready`);
    expect(up.status).toBe(200);
  });
});
