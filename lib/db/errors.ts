// Typed database errors: all answer 503 with Retry-After and a message of their own, never a driver's.

import { LoadwatchError } from '../errors.ts';

export class DatabaseError extends LoadwatchError {
  readonly retryAfterSeconds: number;
  constructor(
    code: string,
    message: string,
    options: ErrorOptions & { publicMessage: string; retryAfterSeconds: number },
  ) {
    super(message, {
      code,
      status: 503,
      expose: false,
      publicMessage: options.publicMessage,
      headers: { 'Retry-After': String(options.retryAfterSeconds) },
      cause: options.cause,
    });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Every connection was busy for the whole pool timeout. */
export class PoolExhaustedError extends DatabaseError {
  constructor(timeoutSeconds: number, options?: ErrorOptions) {
    super('DB_POOL_EXHAUSTED', `no database connection became free within ${timeoutSeconds}s`, {
      ...options,
      publicMessage: 'the service is busy; retry shortly',
      retryAfterSeconds: Math.max(1, Math.ceil(timeoutSeconds)),
    });
  }
}

/** The database could not be reached, or dropped the connection. */
export class DatabaseUnavailableError extends DatabaseError {
  constructor(reason: string, options?: ErrorOptions) {
    super('DB_UNAVAILABLE', `database unavailable: ${reason}`, {
      ...options,
      publicMessage: 'the database is unavailable; retry shortly',
      retryAfterSeconds: 5,
    });
  }
}

/**
 * The schema lacks a table or column this code reads: migrations have not been applied (or were reverted).
 * Like /health/ready, every route answers 503 with the reason rather than a 500.
 */
export class MigrationsPendingError extends DatabaseError {
  constructor(detail: string, options?: ErrorOptions) {
    super('DB_MIGRATIONS_PENDING', `database migrations pending (${detail})`, {
      ...options,
      publicMessage:
        'database migrations pending: the schema is behind this version; run "loadwatch migrate up" (or the migrate function)',
      retryAfterSeconds: 30,
    });
  }
}

/** A statement ran past its timeout, or waited past it for a lock: the database is too slow right now. */
export class DatabaseTimeoutError extends DatabaseError {
  constructor(timeoutMs: number, options?: ErrorOptions) {
    super('DB_TIMEOUT', `a database statement ran past its ${timeoutMs} ms timeout`, {
      ...options,
      publicMessage: 'the database is too slow right now; retry shortly',
      retryAfterSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
    });
  }
}

/** 40001 serialization_failure: a serializable transaction lost a race and may be run again. */
export function isSerializationFailure(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '40001';
}

/**
 * 55P03 lock_not_available: a NOWAIT lock another transaction holds. Seen raw or as the cause of the pool's
 * DatabaseTimeoutError, which it also is when a lock_timeout runs out.
 */
export function isLockNotAvailable(error: unknown): boolean {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  return code === '55P03' || cause?.code === '55P03';
}

// 42P01 undefined_table, 42703 undefined_column, 42883 undefined_function, 3F000 invalid_schema_name.
const SCHEMA_MISSING_CODES = new Set(['42P01', '42703', '42883', '3F000']);

/** True when PostgreSQL refused the statement because the schema it names does not exist (yet). */
export function isSchemaMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SCHEMA_MISSING_CODES.has(code);
}

// 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout).
const TIMEOUT_CODES = new Set(['57014', '55P03']);

/** True for a server-side statement or lock timeout, and for pg's client-side query_timeout. */
export function isStatementTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return true;
  return error instanceof Error && /Query read timeout/.test(error.message);
}

/**
 * 25006 read_only_sql_transaction: the server is a standby. Behind an endpoint that moves in a failover (RDS
 * Multi-AZ, RDS Proxy) it means the connection still reaches the old writer or a replica not yet promoted.
 */
export function isReadOnlyServer(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25006';
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown: pg_terminate_backend or a server shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting or stopping
]);

/** True when the error means the connection itself is gone, so the client must be discarded. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    error.message,
  );
}
