// Query parameters: one reader for every route, so that a bad value is a 400 naming the parameter, never a 500.

import { badRequest } from './errors.ts';
import type { ApiRequest } from './router.ts';

type Query = Pick<ApiRequest, 'query'>;

/** A whole number in [min, max]; the fallback when the parameter is absent or empty. */
export function queryInteger(
  request: Query,
  name: string,
  range: { fallback: number; min: number; max: number },
): number {
  const value = request.query[name];
  if (value === undefined || value === '') return range.fallback;
  if (!/^-?\d{1,16}$/.test(value))
    throw badRequest(`${name}: ${JSON.stringify(value)} is not a whole number`);
  const parsed = Number(value);
  if (parsed < range.min || parsed > range.max) {
    throw badRequest(`${name}: ${parsed} is out of range (${range.min} to ${range.max})`);
  }
  return parsed;
}

// Date, or date and time with an optional fraction and zone. A "+" in a query string arrives as a space.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+ -]\d{2}(?::?\d{2})?)?)?$/i;

/** An ISO 8601 time between the years 1 and 9999 (what PostgreSQL and Date both hold), or undefined when absent. */
export function queryTime(request: Query, name: string): Date | undefined {
  const value = request.query[name];
  if (value === undefined || value === '') return undefined;
  const match = ISO_8601.exec(value);
  const time = match
    ? new Date(value.replace(/(:\d{2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)$/, '$1+$2'))
    : undefined;
  // Date rolls 2024-02-30 over into March; a day past the month's end is a typo, not a time.
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (!match || time === undefined || Number.isNaN(time.getTime()) || year < 1 || day > daysInMonth) {
    throw badRequest(`${name}: ${JSON.stringify(value)} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)`);
  }
  return time;
}

/** One of a fixed set of words; the fallback when absent or empty. */
export function queryChoice<Choice extends string>(
  request: Query,
  name: string,
  choices: readonly Choice[],
  fallback: Choice,
): Choice {
  const value = request.query[name];
  if (value === undefined || value === '') return fallback;
  if ((choices as readonly string[]).includes(value)) return value as Choice;
  throw badRequest(`${name}: ${JSON.stringify(value)} is not one of ${choices.join(', ')}`);
}
