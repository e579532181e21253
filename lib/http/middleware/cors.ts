// CORS from the configured allowlist, on top of @middy/http-cors, strict about what a refused origin sees.

import httpCors from '@middy/http-cors';
import { HEADER_NAME } from '../../validation/rules.ts';
import type { CorsConfig } from '../cors-settings.ts';
import { appendToken } from './security-headers.ts';
import type { HttpMiddleware, HttpRequest } from './types.ts';
import { header, responseHeaders } from './types.ts';

export interface CorsOptions extends CorsConfig {
  methods: string[];
}

/** What a page may read besides the CORS-safelisted response headers, unless CORS_EXPOSE_HEADERS says otherwise. */
export const DEFAULT_EXPOSE_HEADERS = ['Retry-After', 'X-Request-Id'];

/** More names than any real page sends: a longer list is not reflected. */
const MAX_REFLECTED_HEADERS = 64;

/**
 * The header names a preflight asks for, lower-cased, as a list to reflect; null when the value is not a
 * comma-separated list of header names (then nothing is reflected and the browser blocks the request).
 */
export function requestedHeaderNames(value: string | undefined): string[] | null {
  if (value === undefined) return [];
  const names = value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length > MAX_REFLECTED_HEADERS || !names.every((name) => HEADER_NAME.test(name))) return null;
  return [...new Set(names)];
}

export function cors(options: CorsOptions): HttpMiddleware {
  if (options.origins.includes('*') && options.credentials) {
    throw new Error('cors: origins "*" with credentials would let any site make credentialed requests');
  }
  if (options.methods.length === 0) throw new Error('cors: methods must name at least one method');
  for (const [name, list] of [
    ['allowHeaders', options.allowHeaders],
    ['exposeHeaders', options.exposeHeaders],
  ] as const) {
    const invalid = list?.find((entry) => !HEADER_NAME.test(entry));
    if (invalid !== undefined) throw new Error(`cors: ${name} "${invalid}" is not a header name`);
  }
  const middy = httpCors({
    origins: options.origins,
    credentials: options.credentials,
    exposeHeaders: (options.exposeHeaders ?? DEFAULT_EXPOSE_HEADERS).join(', ') || undefined,
  });
  const preflightHeaders = {
    'Access-Control-Allow-Methods': options.methods.join(', '),
    'Access-Control-Max-Age': String(options.maxAgeSeconds),
  };
  const pinnedHeaders = options.allowHeaders?.join(', ');

  const apply = (request: HttpRequest) => {
    if (request.response === undefined) return;
    middy.after?.(request as never);
    const headers = responseHeaders(request);
    if (!('Access-Control-Allow-Origin' in headers)) {
      // A refused origin learns nothing: no CORS header at all, so the browser blocks the response.
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase().startsWith('access-control-')) delete headers[name];
      }
      return;
    }
    const isPreflight =
      request.event.requestContext.http.method === 'OPTIONS' &&
      header(request.event, 'access-control-request-method') !== undefined;
    if (!isPreflight) return;
    Object.assign(headers, preflightHeaders);
    if (options.allowHeaders !== undefined) {
      if (pinnedHeaders) headers['Access-Control-Allow-Headers'] = pinnedHeaders;
      return;
    }
    // Like the cors package: allow what the page asked for, so any header an app sends works.
    const requested = requestedHeaderNames(header(request.event, 'access-control-request-headers'));
    if (requested?.length) headers['Access-Control-Allow-Headers'] = requested.join(', ');
    // The answer now depends on that request header: a shared cache must not serve it to another list.
    appendToken(headers, 'Vary', 'Access-Control-Request-Headers');
  };
  return { after: apply, onError: apply };
}
