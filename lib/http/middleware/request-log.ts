// One structured log line per request: method, route, status, duration and request id.

import type { Logger } from '../../log/logger.ts';
import { loggerFor } from './invocation-logger.ts';
import type { HttpMiddleware, HttpRequest } from './types.ts';

const started = new WeakMap<object, number>();
/** The route pattern the router matched, keyed by event, so logs name routes rather than raw paths. */
export const matchedRoutes = new WeakMap<object, string>();

export function requestLog(options: { logger: Logger }): HttpMiddleware {
  const now = () => performance.now();
  const finish = (request: HttpRequest) => {
    const begin = started.get(request) ?? now();
    const http = request.event.requestContext.http;
    const status = request.response?.statusCode ?? 500;
    // The id a client quotes in a support request; exposed to browsers through CORS too.
    if (request.response) {
      request.response.headers ??= {};
      request.response.headers['X-Request-Id'] = request.event.requestContext.requestId;
    }
    const fields = {
      method: http.method,
      route: matchedRoutes.get(request.event) ?? null,
      path: http.path,
      status,
      durationMs: Math.round((now() - begin) * 100) / 100,
      requestId: request.event.requestContext.requestId,
      sourceIp: http.sourceIp,
    };
    loggerFor(request, options.logger)[status >= 500 ? 'error' : 'info']('request', fields);
  };
  return {
    before: (request) => {
      started.set(request, now());
    },
    after: finish,
    onError: finish,
  };
}
