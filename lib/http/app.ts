// The API handler: middy with CORS, security headers, JSON errors and request logs around the route table.

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { CorsConfig } from '../config/config.ts';
import { eventProblems, type FieldRule, InvalidEventError } from '../lambda/events.ts';
import type { Logger } from '../log/logger.ts';
import { methodNotAllowed, notFound } from './errors.ts';
import { bodyLimit, decodeBody } from './middleware/body.ts';
import { cors } from './middleware/cors.ts';
import { type ErrorBody, errorResponse } from './middleware/error-response.ts';
import { matchedRoutes, requestLog } from './middleware/request-log.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import type { HttpEvent, HttpResult } from './middleware/types.ts';
import { type ApiRequest, createRouter, type Route } from './router.ts';

export type ApiHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export interface CreateApiOptions<Deps> {
  routes: Route<Deps>[];
  deps: Deps;
  cors: CorsConfig;
  logger: Logger;
  bodyLimitBytes?: number;
}

export const CORS_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
export const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'X-Request-Id'];
export const CORS_EXPOSE_HEADERS = ['Retry-After', 'X-Request-Id'];

function lowerCaseHeaders(headers: HttpEvent['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) result[key.toLowerCase()] = value;
  }
  return result;
}

function iamPrincipal(event: HttpEvent): string | undefined {
  const authorizer = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer;
  return authorizer?.iam?.userArn ?? undefined;
}

export function createApiHandler<Deps>(options: CreateApiOptions<Deps>): ApiHandler {
  const router = createRouter(options.routes);

  const dispatch = async (event: HttpEvent): Promise<HttpResult> => {
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
      headers: lowerCaseHeaders(event.headers),
      body: decodeBody(event),
      requestId: event.requestContext.requestId,
      principal: iamPrincipal(event),
    };
    const response = await match.route.handler(request, options.deps);
    const headers: Record<string, string> = { ...response.headers };
    if (response.body === undefined) return { statusCode: response.status, headers };
    if (typeof response.body === 'string')
      return { statusCode: response.status, headers, body: response.body };
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
    return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
  };

  // after/onError run in reverse order of use(): errors become responses first, then CORS, then
  // security headers, and the request log sees the final status.
  const handler = middy<HttpEvent, HttpResult>(dispatch)
    .use(requestLog({ logger: options.logger }))
    .use(securityHeaders())
    .use(
      cors({
        ...options.cors,
        methods: CORS_METHODS,
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
      }),
    )
    .use(errorResponse({ logger: options.logger }))
    .use(bodyLimit({ limitBytes: options.bodyLimitBytes })) as unknown as ApiHandler;
  // Checked before any middleware reads the event: a direct invoke with no or another event gets a 400 naming
  // what is missing, not a TypeError from deep inside the error handler.
  return async (event, context) => {
    const problems = eventProblems(event, HTTP_EVENT_RULES);
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
      statusCode: 400,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
    };
  };
}

/** What the handler and its middleware read of an event. */
const HTTP_EVENT_RULES: readonly FieldRule[] = [
  ['rawPath', 'string'],
  ['requestContext.requestId', 'string'],
  ['requestContext.http.method', 'string'],
  ['requestContext.http.path', 'string'],
];
export const HTTP_EVENT_EXAMPLE = 'functions/events/api-health.json';
