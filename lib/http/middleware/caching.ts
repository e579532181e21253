// ETags and conditional GETs for successful reads, with Cache-Control that never lets an authenticated answer go public.

import { createHash } from 'node:crypto';
import { appendToken } from './security-headers.ts';
import type { HttpMiddleware, HttpRequest } from './types.ts';
import { header, headerKey, responseHeaders } from './types.ts';

/** A read that names no policy of its own: the browser may keep it, but asks (If-None-Match) before reusing it. */
export const REVALIDATE = 'private, no-cache';
/** What a finished load test returns never changes: a year, and no revalidation on reload. */
export const IMMUTABLE = 'private, max-age=31536000, immutable';

/** A strong validator: the same bytes, the same tag, whichever container answered. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** If-None-Match's weak comparison (RFC 9110, 13.1.2): any listed tag, W/ or not, or "*". */
export function noneMatch(value: string | undefined, etag: string): boolean {
  if (value === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return value.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** Signed by IAM (API Gateway verified it) or carrying credentials of its own. */
function authenticated(request: HttpRequest): boolean {
  const context = request.event.requestContext as { authorizer?: unknown };
  return header(request.event, 'authorization') !== undefined || context.authorizer !== undefined;
}

/**
 * For a 200 to GET or HEAD: Cache-Control (the route's, else REVALIDATE; `private` and Vary: Authorization when
 * the request was authenticated, so no shared cache keeps it), an ETag of the body unless the route gave one or
 * said no-store, and 304 without the body when If-None-Match already holds that tag. Runs before the CORS and security headers,
 * which a 304 carries as the 200 would have (Vary: Origin among them).
 */
export function conditionalGet(): HttpMiddleware {
  return {
    after(request) {
      const method = request.event.requestContext.http.method.toUpperCase();
      if ((method !== 'GET' && method !== 'HEAD') || request.response?.statusCode !== 200) return;
      const headers = responseHeaders(request);
      const cacheKey = headerKey(headers, 'Cache-Control') ?? 'Cache-Control';
      let cacheControl = headers[cacheKey] ?? REVALIDATE;
      if (authenticated(request)) {
        cacheControl = cacheControl.replace(/\bpublic\b/i, 'private');
        appendToken(headers, 'Vary', 'Authorization');
      }
      headers[cacheKey] = cacheControl;
      if (/\bno-store\b/i.test(cacheControl)) return;
      const body = request.response.body;
      if (typeof body !== 'string' || request.response.isBase64Encoded) return;
      const etagKey = headerKey(headers, 'ETag') ?? 'ETag';
      const etag = headers[etagKey] ?? strongEtag(body);
      headers[etagKey] = etag;
      if (!noneMatch(header(request.event, 'if-none-match'), etag)) return;
      for (const name of ['Content-Type', 'Content-Length']) {
        const key = headerKey(headers, name);
        if (key) delete headers[key];
      }
      request.response = { statusCode: 304, headers };
    },
  };
}
