// CORS from the configured allowlist, on top of @middy/http-cors, strict about what a refused origin sees.

import httpCors from '@middy/http-cors';
import type { CorsConfig } from '../../config/config.ts';
import type { HttpMiddleware, HttpRequest } from './types.ts';
import { header, responseHeaders } from './types.ts';

export interface CorsOptions extends CorsConfig {
  methods: string[];
  allowHeaders: string[];
  exposeHeaders?: string[];
}

export function cors(options: CorsOptions): HttpMiddleware {
  if (options.origins.includes('*') && options.credentials) {
    throw new Error('cors: origins "*" with credentials would let any site make credentialed requests');
  }
  if (options.methods.length === 0) throw new Error('cors: methods must name at least one method');
  const middy = httpCors({
    origins: options.origins,
    credentials: options.credentials,
    exposeHeaders: options.exposeHeaders?.join(', '),
  });
  const preflightHeaders = {
    'Access-Control-Allow-Methods': options.methods.join(', '),
    'Access-Control-Allow-Headers': options.allowHeaders.join(', '),
    'Access-Control-Max-Age': String(options.maxAgeSeconds),
  };

  const apply = (request: HttpRequest) => {
    if (request.response === undefined) return;
    middy.after?.(request as never);
    const headers = responseHeaders(request);
    const allowed = 'Access-Control-Allow-Origin' in headers;
    if (!allowed) {
      // A refused origin learns nothing: no CORS header at all, so the browser blocks the response.
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase().startsWith('access-control-')) delete headers[name];
      }
      return;
    }
    const isPreflight =
      request.event.requestContext.http.method === 'OPTIONS' &&
      header(request.event, 'access-control-request-method') !== undefined;
    if (isPreflight) Object.assign(headers, preflightHeaders);
  };
  return { after: apply, onError: apply };
}
