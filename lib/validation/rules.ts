// The rules several inputs share (origins, hosts, URLs, durations, whole numbers, header and path text): one each.

import * as v from 'valibot';
import { hasControlCharacters } from '../terminal-text.ts';

// A DNS name or a bracketed IPv6 address, as `new URL` lowercases it (patterns using it are case-insensitive).
const HOST_NAME = String.raw`([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])`;
const PORT = String.raw`(:\d{1,5})?`;

/** scheme://host[:port], nothing after it: what CORS compares and what a check's base points at. */
export const ORIGIN = new RegExp(`^(https?)://${HOST_NAME}${PORT}$`, 'i');

/** host or host:port, no scheme: an entry of a host allowlist. */
export const HOST_AND_PORT = new RegExp(`^${HOST_NAME}${PORT}$`, 'i');

/** A host alone: no scheme, no port (a database endpoint). */
export const HOST = new RegExp(`^${HOST_NAME}$`, 'i');

/** A host, or ".domain" for a domain and every subdomain of it: an entry of the local server's allowlist. */
export const HOST_OR_DOMAIN = new RegExp(`^\\.?${HOST_NAME}$`, 'i');

/** A Host header: the host (group 1), then an optional trailing dot and port. */
export const HOST_HEADER = new RegExp(`^(${HOST_NAME})\\.?${PORT}$`, 'i');

const DIGITS = String.raw`-?\d+`;

/** Decimal digits with an optional minus; the range is each caller's, so "-5" is out of range, not a typo. */
export const WHOLE_NUMBER = new RegExp(`^${DIGITS}$`);
/** The same as a field's text: blanks around it allowed, and "" for a field left out. */
const WHOLE_NUMBER_TEXT = new RegExp(String.raw`^\s*(${DIGITS})?\s*$`);

/**
 * A whole number as a JSON integer or as its digits in text (a flag, a variable, a query parameter), blanks
 * around them allowed; undefined for anything else, "10.5", "1e3" and "+1" included. Every input reads whole
 * numbers through this one function.
 */
export function wholeNumberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  return typeof value === 'string' && WHOLE_NUMBER.test(value.trim()) ? Number(value) : undefined;
}

/** The methods a load test or a scenario step may send. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

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

/** The URL text names, or why it names none: not a URL at all, or one of another scheme than http and https. */
export function readHttpUrl(text: string): URL | 'not a URL' | 'not http' {
  const url = URL.parse(text);
  if (!url) return 'not a URL';
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : 'not http';
}

/** An absolute http: or https: URL holding no character a terminal would act on. */
export function isHttpUrl(value: string): boolean {
  return !hasControlCharacters(value) && readHttpUrl(value) instanceof URL;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/;

/** "250ms", "30s", "2m", or a bare number in the field's own unit; null when it is none of these. */
export function parseDuration(value: unknown, defaultUnit: 'ms' | 's'): number | null {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? value * UNIT_MS[defaultUnit] : null;
  if (typeof value !== 'string') return null;
  const match = value.match(DURATION);
  if (!match) return null;
  return Number(match[1]) * UNIT_MS[(match[2] ?? defaultUnit) as keyof typeof UNIT_MS];
}

// Fields of a request that a flag may give as text and JSON as a number: null and "" leave one out, so that
// its default applies. Each reads the value with one rule above, then checks the range the caller sets.

/** Where a value must lie; `cap` names the setting that sets the maximum, so that a message can say what to raise. */
export interface Range {
  min: number;
  max: number;
  cap?: string;
}

const overCap = (value: string, max: string, cap: string | undefined) =>
  `${value} is over the cap of ${max}${cap ? ` (${cap})` : ''}`;

function numberOrText<const Fallback extends number | undefined = undefined>(options: {
  /** The number a JSON value must be (integer for a whole number); text is read by `read` alone. */
  number: v.GenericSchema<number, number>;
  text: v.GenericSchema<string, string>;
  notOne: (input: unknown) => string;
  read: (value: number | string) => number | null;
  outOfRange: (value: number) => string | undefined;
  /** What a field left out, null or "" means; undefined unless given. */
  fallback?: Fallback;
}) {
  return v.optional(
    v.pipe(
      v.union([options.number, options.text, v.null()], (issue) => options.notOne(issue.input)),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        if (dataset.value === null || dataset.value === '') return options.fallback as Fallback;
        const value = options.read(dataset.value);
        const message = value === null ? options.notOne(dataset.value) : options.outOfRange(value);
        if (message === undefined) return value as number;
        addIssue({ message });
        return NEVER;
      }),
    ),
    options.fallback as Fallback,
  );
}

/** A whole number in the range: "-1 is below the minimum of 1", "20 is over the cap of 10 (LOADTEST_MAX_USERS)". */
export function wholeNumberField({ min, max, cap }: Range) {
  const notOne = (input: unknown) => `${JSON.stringify(input)} is not a whole number`;
  return numberOrText({
    number: v.pipe(
      v.number(),
      v.integer((issue) => notOne(issue.input)),
    ),
    text: v.pipe(
      v.string(),
      v.regex(WHOLE_NUMBER_TEXT, (issue) => notOne(issue.input)),
    ),
    notOne,
    read: (value) => wholeNumberOf(value) ?? null,
    outOfRange: (value) =>
      value < min
        ? `${value} is below the minimum of ${min}`
        : value > max
          ? overCap(String(value), String(max), cap)
          : undefined,
  });
}

/** A number in the range; with `aboveMin`, min itself is refused too (a rate of 0 sends nothing). */
export function numberField<const Fallback extends number | undefined = undefined>({
  min,
  max,
  cap,
  aboveMin = false,
  fallback,
}: Range & { aboveMin?: boolean; fallback?: Fallback }) {
  return numberOrText({
    number: v.number(),
    text: v.string(),
    notOne: (input) => `${JSON.stringify(input)} is not a number`,
    read: (value) => {
      const number = typeof value === 'string' ? (value.trim() === '' ? Number.NaN : Number(value)) : value;
      return Number.isFinite(number) ? number : null;
    },
    outOfRange: (value) =>
      value < min || (aboveMin && value === min)
        ? `${value} must be ${aboveMin ? 'over' : 'at least'} ${min}`
        : value > max
          ? overCap(String(value), String(max), cap)
          : undefined,
    fallback,
  });
}

/** A duration in milliseconds, given as "250ms", "30s", "2m" or a bare number in `unit`; at most `maxMs`. */
export function durationField({ unit, maxMs, cap }: { unit: 'ms' | 's'; maxMs: number; cap?: string }) {
  const notOne = (input: unknown) =>
    `${JSON.stringify(input)} is not a duration (e.g. ${unit === 's' ? '30, 30s or 2m' : '500, 500ms or 2s'})`;
  return numberOrText({
    number: v.number(),
    text: v.pipe(
      v.string(),
      v.regex(new RegExp(`${DURATION.source}|^\\s*$`), (issue) => notOne(issue.input)),
    ),
    notOne,
    read: (value) => parseDuration(value, unit),
    outOfRange: (ms) => (ms > maxMs ? overCap(`${ms / 1000}s`, `${maxMs / 1000}s`, cap) : undefined),
  });
}
