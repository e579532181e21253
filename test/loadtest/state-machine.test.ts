import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { createDb, type Db } from '../../lib/db/pool.ts';
import { runLocally } from '../../lib/loadtest/local-runner.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/options.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('load test state machine, run locally', () => {
  let database: TestDatabase;
  let db: Db;
  let store: LoadTestStore;
  let server: Server;
  let target: string;
  const deps = () => ({ store, logger: createLogger({ level: 'error' }) });

  beforeAll(async () => {
    database = await createTestDatabase();
    await runMigrations({ target: database.target, direction: 'up' });
    db = createDb({
      target: database.target,
      pool: { size: 4, maxOverflow: 4, recycleSeconds: 0, timeoutSeconds: 5, statementTimeoutMs: 0 },
    });
    store = new LoadTestStore(db);
    server = createServer((request, response) => {
      setTimeout(() => response.end(JSON.stringify({ ok: true })), 1 + (request.url === '/slow' ? 20 : 0));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('no address');
    target = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    server?.close();
    await db?.close();
    await database?.drop();
  });

  it('sends exactly users × requests over four shards running in parallel', async () => {
    const run = await createLoadTest(
      { target, users: 50, requests: 20, endpoint: '/health', workers: 4 },
      store,
      DEFAULT_LIMITS,
    );
    const outcome = await runLocally(run.runId, deps()).result;
    expect(outcome).toMatchObject({ status: 'passed', requests: 1000 });
    const record = await store.getRun(run.runId);
    expect(record?.report?.totals).toEqual({ requests: 1000, ok: 1000, failed: 0 });
    const shards = await store.shardResults(run.runId);
    expect(shards.map((row) => row.result.requests)).toEqual([260, 260, 240, 240]);
    const latestStart = Math.max(...shards.map((row) => row.result.startedAt));
    const earliestEnd = Math.min(...shards.map((row) => row.result.finishedAt));
    expect(latestStart).toBeLessThan(earliestEnd);
  });
});
