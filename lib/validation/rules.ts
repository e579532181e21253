// The rules several inputs share (origins, hosts, durations, whole numbers, header and path text): one pattern each.

import { hasControlCharacters } from '../terminal-text.ts';

// A DNS name or a bracketed IPv6 address, as `new URL` lowercases it (patterns using it are case-insensitive).
const HOST_NAME = String.raw`([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:]+\])`;
const PORT = String.raw`(:\d{1,5})?`;

/** scheme://host[:port], nothing after it: what CORS compares and what a check's base points at. */
export const ORIGIN = new RegExp(`^(https?)://${HOST_NAME}${PORT}$`, 'i');

/** host or host:port, no scheme: an entry of a host allowlist. */
export const HOST_AND_PORT = new RegExp(`^${HOST_NAME}${PORT}$`, 'i');

/** Decimal digits with an optional minus; the range is each caller's, so "-5" is out of range, not a typo. */
export const WHOLE_NUMBER = /^-?\d+$/;

/** The token characters HTTP allows in a field name (RFC 9110 5.1). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/i;

// What HTTP allows in a field value (RFC 9110 5.5): no CR, LF, NUL or other control character but tab.
export const INVALID_HEADER_VALUE = /[^\t\u0020-\u007e\u0080-\u00ff]/;

// What a request target may hold as sent (RFC 3986): printable ASCII; anything else is percent-encoded.
export const INVALID_PATH = /[^\u0021-\u007e]/;

/** A JSON object: not null, not a list (which valibot's object schemas would take for one). */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first character of text matching pattern, named so that an invisible one can be seen. */
export function characterName(text: string, pattern: RegExp): string {
  const character = text.match(pattern)?.[0] ?? '';
  const code = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const names: Record<string, string> = { '\r': 'CR', '\n': 'LF', '\0': 'NUL', ' ': 'a space' };
  return `${names[character] ?? `the character ${JSON.stringify(character)}`} (${code}), which is not allowed`;
}

/** An absolute http: or https: URL holding no character a terminal would act on. */
export function isHttpUrl(value: string): boolean {
  if (hasControlCharacters(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** "250ms", "30s", "2m", or a bare number in the field's own unit; null when it is none of these. */
export function parseDuration(value: unknown, defaultUnit: 'ms' | 's'): number | null {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? value * UNIT_MS[defaultUnit] : null;
  if (typeof value !== 'string') return null;
  const match = value.trim().match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/);
  if (!match) return null;
  return Number(match[1]) * UNIT_MS[(match[2] ?? defaultUnit) as keyof typeof UNIT_MS];
}
