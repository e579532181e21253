// Security headers and Vary: Origin on every response, errors and preflights included.

import type { HttpMiddleware, HttpRequest } from './types.ts';
import { headerKey, responseHeaders } from './types.ts';

export const JSON_API_SECURITY_HEADERS: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-site',
  'Cache-Control': 'no-store',
};

/** Adds token to a comma-separated header such as Vary, once, whatever the case of the existing entries. */
export function appendToken(headers: Record<string, string>, name: string, token: string): void {
  const existingKey = headerKey(headers, name);
  const current = existingKey ? (headers[existingKey] ?? '') : '';
  const tokens = current
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (!tokens.some((part) => part.toLowerCase() === token.toLowerCase())) tokens.push(token);
  if (existingKey && existingKey !== name) delete headers[existingKey];
  headers[name] = tokens.join(', ');
}

export function securityHeaders(): HttpMiddleware {
  const defaults = Object.entries(JSON_API_SECURITY_HEADERS);
  const apply = (request: HttpRequest) => {
    if (request.response === undefined && request.error) return;
    const headers = responseHeaders(request);
    for (const [name, value] of defaults) {
      if (!(name in headers)) headers[name] = value;
    }
    // Responses differ by Origin, so every shared cache must key on it (middyjs/middy#1263).
    appendToken(headers, 'Vary', 'Origin');
  };
  return { after: apply, onError: apply };
}
