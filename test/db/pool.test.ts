import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../../lib/config/config.ts';
import { DatabaseTimeoutError, DatabaseUnavailableError, PoolExhaustedError } from '../../lib/db/errors.ts';
import { createDb, type Db, poolConfig } from '../../lib/db/pool.ts';
import type { PoolSettings } from '../../lib/db/pool-settings.ts';
import { RDS_CA_BUNDLE } from '../../lib/db/rds-ca.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const settings = (overrides: Partial<PoolSettings> = {}): PoolSettings => ({
  size: 1,
  maxOverflow: 0,
  recycleSeconds: 60,
  timeoutSeconds: 1,
  statementTimeoutMs: 5000,
  ...overrides,
});

describe('poolConfig', () => {
  const target: DatabaseTarget = {
    label: 'proxy',
    host: 'proxy.example.com',
    port: 5432,
    database: 'app',
    user: 'api',
    auth: { kind: 'iam', region: 'eu-west-1' },
    ssl: 'verify',
    via: 'proxy',
  };

  it('maps size, overflow, recycle and timeout onto pg.Pool', () => {
    const config = poolConfig({
      target,
      pool: settings({ size: 20, maxOverflow: 40, recycleSeconds: 3600, timeoutSeconds: 30 }),
    });
    expect(config).toMatchObject({
      min: 20,
      max: 60,
      maxLifetimeSeconds: 3600,
      connectionTimeoutMillis: 30_000,
      idleTimeoutMillis: 10_000,
    });
  });

  it('sends no session setting through RDS Proxy when a statement timeout is configured', () => {
    const config = poolConfig({ target, pool: settings({ statementTimeoutMs: 2000 }) });
    expect(config.statement_timeout).toBeUndefined();
    expect(config.options).toBeUndefined();
    expect(config.query_timeout).toBe(3000);
    expect(typeof config.password).toBe('function');
    // RDS Proxy's certificates chain to Amazon roots in Node's default trust store: no CA bundle replaces it.
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
  });

  it('sets statement_timeout on direct connections', () => {
    const config = poolConfig({
      target: { ...target, via: 'direct', rdsCa: RDS_CA_BUNDLE },
      pool: settings({ statementTimeoutMs: 2000 }),
    });
    expect(config.statement_timeout).toBe(2000);
  });
});

describe('createDb', () => {
  let database: TestDatabase;
  const open: Db[] = [];
  const db = (pool: Partial<PoolSettings> = {}, applicationName = 'lw-pool-test') => {
    const created = createDb({ target: database.target, pool: settings(pool), applicationName });
    open.push(created);
    return created;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(open.map((created) => created.close().catch(() => undefined)));
    await database.drop();
  });

  it('runs parameterised queries and reports pool stats', async () => {
    const pool = db({ size: 2, maxOverflow: 1 });
    const result = await pool.query<{ sum: number }>('SELECT $1::int + $2::int AS sum', [2, 3]);
    expect(result.rows[0]?.sum).toBe(5);
    expect(pool.stats()).toEqual({ total: 1, idle: 1, waiting: 0, max: 3 });
  });

  it('opens overflow connections in a burst but never more than size + overflow', async () => {
    const pool = db({ size: 1, maxOverflow: 2, timeoutSeconds: 5 });
    let peak = 0;
    const queries = Array.from({ length: 6 }, () => pool.query('SELECT pg_sleep(0.15)'));
    const sampler = setInterval(() => {
      peak = Math.max(peak, pool.stats().total);
    }, 10);
    await Promise.all(queries);
    clearInterval(sampler);
    expect(peak).toBe(3);
    expect(pool.stats().total).toBeLessThanOrEqual(3);
  });

  it('fails with PoolExhaustedError within the pool timeout when every connection is busy', async () => {
    const pool = db({ size: 1, maxOverflow: 0, timeoutSeconds: 1 });
    const busy = pool.query('SELECT pg_sleep(2.5)');
    const started = performance.now();
    const error = await pool.query('SELECT 1').catch((caught: unknown) => caught);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(PoolExhaustedError);
    expect((error as PoolExhaustedError).retryAfterSeconds).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2000);
    await busy;
  });

  it('retries an idempotent read once after its connections were terminated', async () => {
    const pool = db({ size: 2, maxOverflow: 0 }, 'lw-terminate-test');
    await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT pg_sleep(0.05)')]);
    expect(pool.stats().idle).toBe(2);
    const killed = await database.admin<{ count: string }>(
      `SELECT count(pg_terminate_backend(pid)) AS count FROM pg_stat_activity WHERE application_name = $1`,
      ['lw-terminate-test'],
    );
    expect(Number(killed.rows[0]?.count)).toBe(2);
    const result = await pool.query<{ ok: number }>('SELECT 1 AS ok', [], { idempotent: true });
    expect(result.rows[0]?.ok).toBe(1);
  });

  it('retries an idempotent read on a connection that died silently, and only that', async () => {
    const proxy = await startTcpProxy(database.target.port);
    const url = new URL(database.url);
    url.port = String(proxy.port);
    const pool = createDb({
      target: { ...database.target, url: url.toString(), port: proxy.port },
      pool: settings(),
    });
    open.push(pool);
    try {
      await pool.query('SELECT 1');
      proxy.severSilently();
      const read = await pool.query<{ ok: number }>('SELECT 1 AS ok', [], { idempotent: true });
      expect(read.rows[0]?.ok).toBe(1);
      proxy.severSilently();
      const write = await pool.query('SELECT 1').catch((caught: unknown) => caught);
      expect(write).toBeInstanceOf(DatabaseUnavailableError);
      const next = await pool.query<{ ok: number }>('SELECT 1 AS ok');
      expect(next.rows[0]?.ok).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('enforces the statement timeout on the server', async () => {
    const pool = db({ statementTimeoutMs: 200 });
    const error = await pool.query('SELECT pg_sleep(2)').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseTimeoutError);
    expect((error as DatabaseTimeoutError).code).toBe('DB_TIMEOUT');
    expect(((error as Error).cause as { code?: string }).code).toBe('57014');
    const after = await pool.query<{ ok: number }>('SELECT 1 AS ok');
    expect(after.rows[0]?.ok).toBe(1);
  });

  it('rolls a transaction back when its function throws', async () => {
    const pool = db();
    await pool.query('CREATE TABLE tx_probe (id int)');
    await expect(
      pool.transaction(async (client) => {
        await client.query('INSERT INTO tx_probe VALUES (1)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await pool.transaction((client) => client.query('INSERT INTO tx_probe VALUES (2)'));
    const rows = await pool.query<{ id: number }>('SELECT id FROM tx_probe');
    expect(rows.rows).toEqual([{ id: 2 }]);
  });

  it('answers a write on a read-only server (a standby, mid-failover) with a 503 and drops that connection', async () => {
    const pool = db({ size: 1, maxOverflow: 0 }, 'lw-pool-readonly');
    await pool.query('CREATE TABLE readonly_probe (id int)');
    await pool.query('SET default_transaction_read_only = on');
    const before = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    for (const write of [
      () => pool.query('INSERT INTO readonly_probe VALUES (1)'),
      () => pool.transaction((client) => client.query('INSERT INTO readonly_probe VALUES (2)')),
    ]) {
      const error = await write().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect(error).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
      // The next connection may reach the promoted writer: this one is closed, not reused.
      const after = await pool.query<{ pid: number; readOnly: string }>(
        `SELECT pg_backend_pid() AS pid, current_setting('default_transaction_read_only') AS "readOnly"`,
      );
      expect(after.rows[0]?.pid).not.toBe(before.rows[0]?.pid);
      expect(after.rows[0]?.readOnly).toBe('off');
      await pool.query('SET default_transaction_read_only = on');
    }
  });

  it('fails fast with DatabaseUnavailableError when nothing listens', async () => {
    const port = await freePort();
    const unreachable = createDb({
      target: { ...database.target, url: `postgres://u:p@127.0.0.1:${port}/x`, port },
      pool: settings({ timeoutSeconds: 2 }),
    });
    open.push(unreachable);
    const started = performance.now();
    const error = await unreachable.query('SELECT 1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as DatabaseUnavailableError).message).not.toContain('u:p');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
