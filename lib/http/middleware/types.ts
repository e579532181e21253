// The middy types every API middleware shares.

import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context>;
export type HttpRequest = Request<HttpEvent, HttpResult, Error, Context>;

/** Header lookup that ignores case, as HTTP does. */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const lowered = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lowered) return value;
  }
  return undefined;
}

export function responseHeaders(request: HttpRequest): Record<string, string> {
  request.response ??= { statusCode: 200 };
  request.response.headers ??= {};
  return request.response.headers as Record<string, string>;
}
