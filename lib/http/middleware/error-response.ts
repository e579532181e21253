// Turns any error into a JSON response; a client never sees a stack trace or a driver message.

import { LoadwatchError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { clientMessage, listProblems } from '../errors.ts';
import { loggerFor } from './invocation-logger.ts';
import type { HttpMiddleware } from './types.ts';

export interface ErrorBody {
  /** problems: one line per bad field, at most MAX_LISTED_PROBLEMS and then "and N more". */
  error: { code: string; message: string; problems?: string[]; [detail: string]: unknown };
  requestId: string;
}

/**
 * The error a client may learn of: a member of the family that is exposed or has a public message answers as
 * itself; anything else is a bug or a fault of the service, answered 500 INTERNAL without its message.
 */
export function toHttpError(error: unknown): LoadwatchError {
  if (error instanceof LoadwatchError && (error.expose || error.publicMessage !== undefined)) return error;
  return new LoadwatchError('internal error', { code: 'INTERNAL', status: 500, expose: false, cause: error });
}

/** The message a client may read: its own when exposed, else the error's public one, else none at all. */
const publicMessage = (error: LoadwatchError) =>
  error.expose ? clientMessage(error) : (error.publicMessage ?? 'internal error');

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
          message: publicMessage(error),
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
