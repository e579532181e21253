import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import type { Db } from '../../lib/db/pool.ts';
import { createReplicaDb, READER_RETRY_AFTER_MS } from '../../lib/db/read-replica.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { urlTarget } from '../../lib/local/stack.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { configProblems } from '../support/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const POOL = { size: 1, maxOverflow: 0, recycleSeconds: 0, timeoutSeconds: 2, statementTimeoutMs: 0 };

/** Accepts connections and never answers: a reader whose host is up but whose PostgreSQL is not. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('read replica', () => {
  // Two databases stand for the writer and its replica; the replica's rows say which one answered.
  let writer: TestDatabase;
  let replica: TestDatabase;
  const open: Db[] = [];

  beforeAll(async () => {
    [writer, replica] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    for (const [database, name] of [
      [writer, 'on-writer'],
      [replica, 'on-replica'],
    ] as const) {
      await runMigrations({ target: database.target, direction: 'up' });
      await database.admin(`INSERT INTO monitor_check_states (check_name) VALUES ($1)`, [name]);
    }
  });
  afterAll(async () => {
    await Promise.all(open.map((db) => db.close().catch(() => undefined)));
    await Promise.all([writer?.drop(), replica?.drop()]);
  });

  const where = async (db: Db, replicaRead: boolean) =>
    (
      await db.query<{ check_name: string }>('SELECT check_name FROM monitor_check_states', [], {
        replica: replicaRead,
      })
    ).rows[0]?.check_name;

  it('sends reads that tolerate lag to the reader and everything else to the writer', async () => {
    const db = createReplicaDb({ target: writer.target, reader: replica.target, pool: POOL });
    open.push(db);
    expect(await where(db, true)).toBe('on-replica');
    expect(await where(db, false)).toBe('on-writer');
    expect(
      await db.transaction(
        async (client) => (await client.query('SELECT current_database() AS name')).rows[0],
      ),
    ).toEqual({
      name: new URL(writer.url).pathname.slice(1),
    });
  });

  it('answers from the writer within the pool timeout when the reader is down, and skips it for a while', async () => {
    const silent = await silentServer();
    const closedPort = await freePort();
    try {
      for (const port of [silent.port, closedPort]) {
        let clock = 0;
        const downs: Error[] = [];
        const reader = urlTarget(`postgres://postgres:x@127.0.0.1:${port}/none`);
        const db = createReplicaDb({
          target: writer.target,
          reader,
          pool: POOL,
          onReaderDown: (error) => downs.push(error),
          now: () => clock,
        });
        open.push(db);
        const started = performance.now();
        expect(await where(db, true)).toBe('on-writer');
        expect(performance.now() - started).toBeLessThan(POOL.timeoutSeconds * 1000);
        expect(downs).toHaveLength(1);
        // Meanwhile reads go straight to the writer, without another wait on the reader.
        clock += READER_RETRY_AFTER_MS - 1;
        const again = performance.now();
        expect(await where(db, true)).toBe('on-writer');
        expect(performance.now() - again).toBeLessThan(200);
        expect(downs).toHaveLength(1);
        // Then the reader is tried again.
        clock += 2;
        expect(await where(db, true)).toBe('on-writer');
        expect(downs).toHaveLength(2);
      }
    } finally {
      await silent.close();
    }
  });

  it('serves the API’s monitor reads from the reader and its load-test reads from the writer', async () => {
    let api: RunningApi | undefined;
    try {
      api = await startApiServer({ DATABASE_URL: writer.url, DATABASE_READ_URL: replica.url });
      const checks = (await (await fetch(`${api.url}/v1/checks`)).json()) as {
        checks: Array<{ check: string }>;
      };
      expect(checks.checks.map((check) => check.check)).toEqual(['on-replica']);
      await writer.admin(
        `INSERT INTO loadtest_runs (id, status, target, options) VALUES (gen_random_uuid(), 'failed', 'http://127.0.0.1:9/', '{}')`,
      );
      const runs = (await (await fetch(`${api.url}/v1/loadtests`)).json()) as { runs: unknown[] };
      expect(runs.runs).toHaveLength(1);
    } finally {
      await api?.close();
    }
  });
});

describe('read replica settings', () => {
  const rds = {
    DB_PROXY_ENDPOINT: 'app.proxy-c0ffee.eu-west-1.rds.amazonaws.com',
    DB_NAME: 'app',
    DB_USER: 'api',
    DB_IAM_AUTH: 'true',
    AWS_REGION: 'eu-west-1',
  };

  it('takes a replica’s endpoint or a proxy’s read-only endpoint, signed in as the writer is', () => {
    const direct = loadConfig({ ...rds, DB_READ_ENDPOINT: 'app-replica.c0ffee.eu-west-1.rds.amazonaws.com' });
    expect(direct.database).toMatchObject({
      reader: {
        host: 'app-replica.c0ffee.eu-west-1.rds.amazonaws.com',
        via: 'direct',
        user: 'api',
        auth: { kind: 'iam' },
      },
    });
    const proxied = loadConfig({
      ...rds,
      DB_READ_ENDPOINT: 'reads.endpoint.proxy-c0ffee.eu-west-1.rds.amazonaws.com',
    });
    expect(proxied.database).toMatchObject({ reader: { via: 'proxy' } });
    expect(loadConfig(rds).database).not.toHaveProperty('reader');
  });

  it('names the variable when the read endpoint is malformed or has no writer beside it', () => {
    expect(configProblems({ ...rds, DB_READ_ENDPOINT: 'https://replica:5432' })).toEqual([
      'DB_READ_ENDPOINT: "https://replica:5432" is not a host name (give the endpoint without scheme or port)',
    ]);
    // The same host rule as the writer's endpoints: an empty label is no host name.
    expect(configProblems({ ...rds, DB_READ_ENDPOINT: 'replica..internal' })).toEqual([
      'DB_READ_ENDPOINT: "replica..internal" is not a host name (give the endpoint without scheme or port)',
    ]);
    expect(configProblems({ DATABASE_URL: 'postgres://u@h/d', DATABASE_READ_URL: 'mysql://h/d' })).toEqual([
      'DATABASE_READ_URL: scheme "mysql" is not postgres or postgresql',
    ]);
    expect(configProblems({ DATABASE_READ_URL: 'postgres://u@h/d' })).toEqual([
      'DATABASE_READ_URL: needs DATABASE_URL (the writer) beside it; with RDS set DB_READ_ENDPOINT',
    ]);
  });
});
