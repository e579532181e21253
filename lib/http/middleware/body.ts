// Request bodies: a size limit before anything runs (413), JSON decoding once a route has matched (400).

import { badRequest, payloadTooLarge } from '../errors.ts';
import type { HttpEvent, HttpMiddleware } from './types.ts';
import { header } from './types.ts';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** The body as text, or as JSON for JSON content types; undefined when empty. */
export function decodeBody(event: HttpEvent): unknown {
  const { body, isBase64Encoded } = event;
  if (body === undefined || body === null || body === '') return undefined;
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`malformed JSON body: ${(error as Error).message}`, 'MALFORMED_JSON');
  }
}

export function bodyLimit(options: { limitBytes?: number } = {}): HttpMiddleware {
  const limit = options.limitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!Number.isInteger(limit) || limit <= 0)
    throw new Error('bodyLimit: limitBytes must be a positive integer');
  return {
    before: (request) => {
      const { body, isBase64Encoded } = request.event;
      if (!body) return;
      const size = isBase64Encoded ? Buffer.byteLength(body, 'base64') : Buffer.byteLength(body, 'utf8');
      if (size > limit) throw payloadTooLarge(limit);
    },
  };
}
