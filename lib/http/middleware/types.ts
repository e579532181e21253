// The middy types every API middleware shares.

import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context>;
export type HttpRequest = Request<HttpEvent, HttpResult, Error, Context>;

/** The key under which `headers` hold `name`, whatever its case, as HTTP compares names. */
export function headerKey(headers: Record<string, unknown>, name: string): string | undefined {
  return Object.keys(headers).find((key) => key.toLowerCase() === name.toLowerCase());
}

/** Header lookup that ignores case, as HTTP does. */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const key = headerKey(headers, name);
  return key === undefined ? undefined : headers[key];
}

export function responseHeaders(request: HttpRequest): Record<string, string> {
  request.response ??= { statusCode: 200 };
  request.response.headers ??= {};
  return request.response.headers as Record<string, string>;
}
