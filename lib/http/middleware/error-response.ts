// Turns any error into a JSON response; a client never sees a stack trace or a driver message.

import { DatabaseError } from '../../db/errors.ts';
import type { Logger } from '../../log/logger.ts';
import { clientMessage, HttpError, listProblems } from '../errors.ts';
import { loggerFor } from './invocation-logger.ts';
import type { HttpMiddleware } from './types.ts';

export interface ErrorBody {
  /** problems: one line per bad field, at most MAX_LISTED_PROBLEMS and then "and N more". */
  error: { code: string; message: string; problems?: string[]; [detail: string]: unknown };
  requestId: string;
}

/** What a client may read for each typed database error: all of them are 503 with Retry-After. */
const DATABASE_MESSAGES: Record<string, string> = {
  DB_POOL_EXHAUSTED: 'the service is busy; retry shortly',
  DB_UNAVAILABLE: 'the database is unavailable; retry shortly',
  DB_TIMEOUT: 'the database is too slow right now; retry shortly',
  DB_MIGRATIONS_PENDING:
    'database migrations pending: the schema is behind this version; run "loadwatch migrate up" (or the migrate function)',
};

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message =
    error instanceof DatabaseError && typeof code === 'string' ? DATABASE_MESSAGES[code] : undefined;
  if (message !== undefined) {
    const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 5;
    return new HttpError(503, code as string, message, {
      expose: true,
      headers: { 'Retry-After': String(retryAfter) },
      cause: error,
    });
  }
  return new HttpError(500, 'INTERNAL', 'internal error', { expose: false, cause: error });
}

export function errorResponse(options: { logger: Logger }): HttpMiddleware {
  return {
    onError: (request) => {
      const error = toHttpError(request.error);
      const requestId = request.event.requestContext.requestId;
      if (error.status >= 500) {
        const original = request.error as Error | undefined;
        loggerFor(request, options.logger).error('request failed', {
          requestId,
          code: error.code,
          error: original?.message,
          cause: (original?.cause as Error | undefined)?.message,
          stack: original?.stack,
        });
      }
      const body: ErrorBody = {
        error: {
          ...(error.expose ? error.details : {}),
          code: error.code,
          message: error.expose ? clientMessage(error) : 'internal error',
          ...(error.expose && error.problems?.length ? { problems: listProblems(error.problems) } : {}),
        },
        requestId,
      };
      request.response = {
        statusCode: error.status,
        headers: { 'Content-Type': 'application/json; charset=utf-8', ...error.headers },
        body: JSON.stringify(body),
      };
    },
  };
}
