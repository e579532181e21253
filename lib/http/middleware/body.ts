// Request bodies: a size limit before anything runs (413), JSON decoding once a route has matched (400).

import { badRequest, payloadTooLarge } from '../errors.ts';
import type { HttpEvent, HttpMiddleware } from './types.ts';
import { header } from './types.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Deeper than this a JSON body is an attack on the recursion of whatever reads it, not a request. */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses what no route can walk or store: nesting beyond MAX_JSON_DEPTH, and NUL in any string or key
 * (PostgreSQL's text and jsonb cannot hold U+0000). Iterative, so the check itself cannot overflow the stack.
 */
export function checkJsonBody(value: unknown): void {
  const pending: Array<{ value: unknown; field: string; depth: number }> = [{ value, field: '', depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const field = item.field || 'body';
    if (typeof item.value === 'string') {
      if (item.value.includes('\0')) throw badRequest(`${field}: holds a NUL character (\\u0000)`);
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= MAX_JSON_DEPTH) {
      throw badRequest(`${field}: nested deeper than ${MAX_JSON_DEPTH} levels`, 'BODY_TOO_DEEP');
    }
    const isArray = Array.isArray(item.value);
    for (const [key, child] of Object.entries(item.value)) {
      if (key.includes('\0')) throw badRequest(`${field}: a key holds a NUL character (\\u0000)`);
      const childField = isArray ? `${item.field}[${key}]` : item.field ? `${item.field}.${key}` : key;
      pending.push({ value: child, field: childField, depth: item.depth + 1 });
    }
  }
}

/** The body as text, or as JSON for JSON content types; undefined when empty. */
export function decodeBody(event: HttpEvent): unknown {
  const { body, isBase64Encoded } = event;
  if (body === undefined || body === null || body === '') return undefined;
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badRequest(`malformed JSON body: ${(error as Error).message}`, 'MALFORMED_JSON');
  }
  checkJsonBody(parsed);
  return parsed;
}

export function bodyLimit(): HttpMiddleware {
  return {
    before: (request) => {
      const { body, isBase64Encoded } = request.event;
      if (!body) return;
      const size = isBase64Encoded ? Buffer.byteLength(body, 'base64') : Buffer.byteLength(body, 'utf8');
      if (size > BODY_LIMIT_BYTES) throw payloadTooLarge(BODY_LIMIT_BYTES);
    },
  };
}
