// The API handler: middy with CORS, security headers, JSON errors and request logs around the route table.

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { eventObject, eventProblems, eventString, InvalidEventError } from '../lambda/events.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import type { CorsConfig } from './cors-settings.ts';
import { HttpError, methodNotAllowed, notFound } from './errors.ts';
import { bodyLimit, decodeBody } from './middleware/body.ts';
import { conditionalGet } from './middleware/caching.ts';
import { cors } from './middleware/cors.ts';
import { type ErrorBody, errorResponse } from './middleware/error-response.ts';
import { invocationLogger } from './middleware/invocation-logger.ts';
import { matchedRoutes, requestLog } from './middleware/request-log.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import type { HttpEvent, HttpResult } from './middleware/types.ts';
import { type ApiRequest, createRouter, type Route } from './router.ts';

export type ApiHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * deps: the same for every invocation; depsFor: the deps of one invocation, for adapters its context completes
 * (on Lambda, the account in the function's ARN).
 */
export type CreateApiOptions<Deps> = ApiHandlerOptions<Deps> &
  ({ deps: Deps; depsFor?: undefined } | { depsFor: (context: Context) => Deps });

interface ApiHandlerOptions<Deps> {
  routes: Route<Deps>[];
  cors: CorsConfig;
  logger: Logger;
  /** Fields each invocation's log lines carry besides the logger's own (request id, cold start, trace). */
  logFields?: (context: Context) => LogFields;
  /** Longest a route may run before the request answers 503 (API_HANDLER_TIMEOUT). */
  handlerTimeoutMs?: number;
}

/** Kept back from the Lambda's own timeout, so that the 503 is written before Lambda ends the invocation. */
export const ANSWER_MARGIN_MS = 500;
const RETRY_AFTER_TIMEOUT_SECONDS = 5;

/** Settles with the route's answer, or rejects with a 503 once the deadline passes (the route runs on unseen). */
function withDeadline<T>(work: Promise<T> | T, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpError(503, 'TIMEOUT', `the request ran out of its ${deadlineMs} ms; retry shortly`, {
            expose: true,
            headers: { 'Retry-After': String(RETRY_AFTER_TIMEOUT_SECONDS) },
          }),
        ),
      deadlineMs,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export const CORS_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function iamPrincipal(event: HttpEvent): string | undefined {
  const authorizer = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer;
  return authorizer?.iam?.userArn ?? undefined;
}

export function createApiHandler<Deps>(options: CreateApiOptions<Deps>): ApiHandler {
  const router = createRouter(options.routes);

  const handlerTimeoutMs = options.handlerTimeoutMs ?? Number.POSITIVE_INFINITY;
  const dispatch = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    // The configured deadline, or the Lambda's own (less a margin) when that comes first.
    const remainingMs = context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const deadlineMs = Math.max(0, Math.min(handlerTimeoutMs, remainingMs - ANSWER_MARGIN_MS));
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath || event.requestContext.http.path;
    if (method === 'OPTIONS') {
      // Preflights for any path; the CORS middleware decides which headers, if any, it carries.
      return { statusCode: 204, headers: { Allow: CORS_METHODS.join(', ') } };
    }
    const match = router.match(method, path);
    if (match.kind === 'not-found') throw notFound(`no route for ${method} ${path}`);
    if (match.kind === 'method-not-allowed') {
      matchedRoutes.set(event, match.pattern);
      throw methodNotAllowed(method, path, [...match.allowed, 'OPTIONS']);
    }
    matchedRoutes.set(event, match.route.path);
    const request: ApiRequest = {
      method,
      path,
      params: match.params,
      query: Object.fromEntries(
        Object.entries(event.queryStringParameters ?? {}).filter(
          (entry): entry is [string, string] => !!entry[1],
        ),
      ),
      headers: Object.fromEntries(
        Object.entries(event.headers ?? {}).flatMap(([key, value]) =>
          value === undefined ? [] : [[key.toLowerCase(), value]],
        ),
      ),
      body: decodeBody(event),
      requestId: event.requestContext.requestId,
      principal: iamPrincipal(event),
      ...(event.requestContext.domainName ? { domainName: event.requestContext.domainName } : {}),
    };
    const deps = options.depsFor ? options.depsFor(context) : options.deps;
    const response = Number.isFinite(deadlineMs)
      ? await withDeadline(match.route.handler(request, deps), deadlineMs)
      : await match.route.handler(request, deps);
    const headers: Record<string, string> = { ...response.headers };
    if (response.body === undefined) return { statusCode: response.status, headers };
    if (typeof response.body === 'string')
      return { statusCode: response.status, headers, body: response.body };
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
    return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
  };

  // after/onError run in reverse order of use(): a read's 200 becomes a 304 first, errors become responses,
  // then CORS, then security headers, and the request log sees the final status.
  // middy's own early timeout would answer a 500; the deadline above answers 503 instead.
  const engine = middy<HttpEvent, HttpResult>(dispatch, { timeoutEarlyInMillis: 0 });
  // Without fields to add, every invocation logs through the logger itself, at no cost per request.
  if (options.logFields) engine.use(invocationLogger({ logger: options.logger, fields: options.logFields }));
  const handler = engine
    .use(requestLog({ logger: options.logger }))
    .use(securityHeaders())
    .use(cors({ ...options.cors, methods: CORS_METHODS }))
    .use(errorResponse({ logger: options.logger }))
    .use(bodyLimit())
    .use(conditionalGet()) as unknown as ApiHandler;
  // Checked before any middleware reads the event: a direct invoke with no or another event gets a 400 naming
  // what is missing, not a TypeError from deep inside the error handler.
  return async (event, context) => {
    const problems = eventProblems(event, HTTP_EVENT);
    if (problems.length === 0) return handler(event, context);
    const error = new InvalidEventError(
      'an API Gateway HTTP API (payload 2.0) event',
      problems,
      HTTP_EVENT_EXAMPLE,
    );
    const body: ErrorBody = {
      error: { code: error.code, message: error.message },
      requestId: context?.awsRequestId ?? '',
    };
    return {
      statusCode: error.status,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
    };
  };
}

/** What the handler and its middleware read of an event. */
const HTTP_EVENT = eventObject({
  rawPath: eventString(),
  requestContext: eventObject({
    requestId: eventString(),
    http: eventObject({ method: eventString(), path: eventString() }),
  }),
});
export const HTTP_EVENT_EXAMPLE = 'functions/events/api-health.json';
