// The one pg pool: sizing from config, typed errors, and one retry of idempotent reads on a dropped connection.

import type pg from 'pg';
import { clientConfig } from './connection.ts';
import {
  DatabaseError,
  DatabaseTimeoutError,
  DatabaseUnavailableError,
  isConnectionError,
  isReadOnlyServer,
  isSchemaMissing,
  isStatementTimeout,
  MigrationsPendingError,
  PoolExhaustedError,
} from './errors.ts';
import type { PoolSettings } from './pool-settings.ts';
import type { DatabaseTarget } from './target.ts';

export interface PoolStats {
  /** Open connections, busy or idle. */
  total: number;
  idle: number;
  /** Requests queued for a connection. */
  waiting: number;
  /** The most connections the pool will open (size + overflow). */
  max: number;
}

export interface QueryOptions {
  /** Safe to run twice: retried once on a fresh connection when the first one turns out dead. */
  idempotent?: boolean;
  /**
   * A read that may be a moment behind the writer (no read of the caller's own writes): served by the read
   * replica when one is configured (lib/db/read-replica.ts).
   */
  replica?: boolean;
}

export interface TransactionOptions {
  isolation?: 'read committed' | 'serializable';
}

export interface Db {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<pg.QueryResult<Row>>;
  /**
   * Runs fn inside BEGIN/COMMIT on one connection, rolling back when it throws. `serializable` starts the
   * transaction at that level (in BEGIN itself: no SET, so nothing pins a session through RDS Proxy).
   */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  stats(): PoolStats;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  target: DatabaseTarget;
  pool: PoolSettings;
  /** Label for pg's application_name, visible in pg_stat_activity. */
  applicationName?: string;
  /** Called for errors on idle connections, which would otherwise crash the process. */
  onIdleError?: (error: Error) => void;
}

const OVERFLOW_IDLE_MS = 10_000;

export function poolConfig(options: CreateDbOptions): pg.PoolConfig {
  const { target, pool } = options;
  return {
    ...clientConfig(target),
    application_name: options.applicationName ?? 'loadwatch',
    // size connections stay open; overflow ones close after OVERFLOW_IDLE_MS idle.
    min: pool.size,
    max: pool.size + pool.maxOverflow,
    idleTimeoutMillis: OVERFLOW_IDLE_MS,
    maxLifetimeSeconds: pool.recycleSeconds,
    connectionTimeoutMillis: pool.timeoutSeconds * 1000,
    // The client-side limit also covers connections through RDS Proxy, where a startup statement_timeout
    // is left out so that nothing can pin the session; set it on the database role there instead.
    query_timeout: pool.statementTimeoutMs > 0 ? pool.statementTimeoutMs + 1000 : undefined,
    keepAlive: true,
    // Idle connections alone do not keep a command (or `sls invoke local`) from exiting.
    allowExitOnIdle: true,
    ...(target.via !== 'proxy' && pool.statementTimeoutMs > 0
      ? { statement_timeout: pool.statementTimeoutMs }
      : {}),
  };
}

/**
 * pg, loaded by the first connection rather than with this module: a cold start, or a request such as
 * GET /health, that never reaches the database does not evaluate it (about 5 ms of a Lambda cold import).
 */
let pgModule: Promise<typeof pg> | undefined;
const loadPg = () => (pgModule ??= import('pg').then((module) => module.default));

function toDatabaseError(error: unknown, openConnections: number, settings: PoolSettings): Error {
  if (error instanceof DatabaseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'timeout exceeded when trying to connect') {
    return new PoolExhaustedError(settings.timeoutSeconds, { cause: error });
  }
  if (isSchemaMissing(error)) return new MigrationsPendingError(message, { cause: error });
  if (isStatementTimeout(error))
    return new DatabaseTimeoutError(settings.statementTimeoutMs, { cause: error });
  if (isReadOnlyServer(error)) {
    return new DatabaseUnavailableError('the server is read-only (a standby, or a failover under way)', {
      cause: error,
    });
  }
  if (isConnectionError(error) || (openConnections === 0 && /connect/i.test(message))) {
    const code = (error as { code?: string }).code;
    return new DatabaseUnavailableError(code ?? message, { cause: error });
  }
  return error instanceof Error ? error : new Error(message);
}

export function createDb(options: CreateDbOptions): Db {
  const settings = options.pool;
  // Built now, so that a configuration problem fails here and not with the first query.
  const config = poolConfig(options);
  let pool: pg.Pool | undefined;
  let opening: Promise<pg.Pool> | undefined;
  let closed = false;
  const openConnections = () => pool?.totalCount ?? 0;

  function open(): Promise<pg.Pool> {
    opening ??= loadPg().then((loaded) => {
      // end() before the first connection leaves nothing to open.
      if (closed) throw new Error('Cannot use a pool after calling end on the pool');
      const created = new loaded.Pool(config);
      // An idle connection that dies (server restart, proxy timeout, frozen container) emits here; the pool
      // has already dropped it, so reporting is all that is left to do.
      created.on('error', (error) => options.onIdleError?.(error));
      // A checked-out client whose socket dies emits 'error' besides failing its query; without a listener
      // that event would crash the process. The query's rejection carries the error to the caller.
      created.on('connect', (client) => client.on('error', () => undefined));
      pool = created;
      return created;
    });
    return opening;
  }

  async function connect(): Promise<pg.PoolClient> {
    try {
      return await (await open()).connect();
    } catch (error) {
      throw toDatabaseError(error, openConnections(), settings);
    }
  }

  return {
    async query<Row extends pg.QueryResultRow>(
      sql: string,
      params: unknown[] = [],
      queryOptions: QueryOptions = {},
    ) {
      for (let attempt = 1; ; attempt++) {
        const client = await connect();
        try {
          const result = await client.query<Row>(sql, params);
          client.release();
          return result;
        } catch (error) {
          // A connection to a read-only server goes too: the next one may reach the promoted writer.
          const broken =
            isConnectionError(error) || isReadOnlyServer(error) || /Query read timeout/.test(String(error));
          client.release(broken ? (error as Error) : undefined);
          if (broken && queryOptions.idempotent && attempt === 1) continue;
          throw toDatabaseError(error, openConnections(), settings);
        }
      }
    },

    async transaction<T>(
      fn: (client: pg.PoolClient) => Promise<T>,
      transactionOptions: TransactionOptions = {},
    ): Promise<T> {
      const client = await connect();
      try {
        await client.query(
          transactionOptions.isolation === 'serializable' ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN',
        );
        const result = await fn(client);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        const broken = isConnectionError(error) || isReadOnlyServer(error);
        if (!isConnectionError(error)) await client.query('ROLLBACK').catch(() => undefined);
        client.release(broken ? (error as Error) : undefined);
        throw toDatabaseError(error, openConnections(), settings);
      }
    },

    stats: () => ({
      total: pool?.totalCount ?? 0,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      max: settings.size + settings.maxOverflow,
    }),

    async close() {
      closed = true;
      if (opening) await (await opening.catch(() => undefined))?.end();
    },
  };
}
