// A logger per invocation, carrying the Lambda context's fields, for the middleware that logs after it.

import type { Context } from 'aws-lambda';
import type { LogFields, Logger } from '../../log/logger.ts';
import type { HttpMiddleware, HttpRequest } from './types.ts';

const loggers = new WeakMap<HttpRequest, Logger>();

export function invocationLogger(options: {
  logger: Logger;
  fields: (context: Context) => LogFields;
}): HttpMiddleware {
  const { logger, fields } = options;
  if (typeof logger?.child !== 'function') throw new TypeError('invocationLogger: logger is required');
  if (typeof fields !== 'function') throw new TypeError('invocationLogger: fields must be a function');
  return {
    before: (request) => {
      loggers.set(request, logger.child(fields(request.context)));
    },
  };
}

/** The invocation's logger when invocationLogger made one, else `fallback`. */
export function loggerFor(request: HttpRequest, fallback: Logger): Logger {
  return loggers.get(request) ?? fallback;
}
