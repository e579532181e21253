// Query parameters: each route reads its own with one schema, so that a bad value is a 400 naming the parameter.

import * as v from 'valibot';
import { issueLines } from '../validation/issues.ts';
import { wholeNumberOf } from '../validation/rules.ts';
import { badRequest } from './errors.ts';
import type { ApiRequest } from './router.ts';

/** A whole number in [min, max]; the fallback when the parameter is absent or empty. */
export function wholeNumberParameter(range: { fallback: number; min: number; max: number }) {
  return v.optional(
    v.pipe(
      v.string(),
      v.check(
        (text) => wholeNumberOf(text) !== undefined,
        (issue) => `${JSON.stringify(issue.input)} is not a whole number`,
      ),
      v.transform((text) => Number(text)),
      v.check(
        (number) => number >= range.min && number <= range.max,
        (issue) => `${issue.input} is out of range (${range.min} to ${range.max})`,
      ),
    ),
    // The default is read like a given value, so it is the parameter's text.
    String(range.fallback),
  );
}

// Date, or date and time with an optional fraction and zone. A "+" in a query string arrives as a space.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+ -]\d{2}(?::?\d{2})?)?)?$/i;

/** An ISO 8601 time between the years 1 and 9999 (what PostgreSQL and Date both hold); undefined otherwise. */
function isoTime(value: string): Date | undefined {
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  const time = new Date(value.replace(/(:\d{2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)$/, '$1+$2'));
  // Date rolls 2024-02-30 over into March; a day past the month's end is a typo, not a time.
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return Number.isNaN(time.getTime()) || year < 1 || day > daysInMonth ? undefined : time;
}

/** An ISO 8601 time, or undefined when absent or empty. */
export function timeParameter() {
  return v.optional(
    v.pipe(
      v.string(),
      v.check(
        (text) => isoTime(text) !== undefined,
        (issue) => `${JSON.stringify(issue.input)} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)`,
      ),
      v.transform((text) => isoTime(text) as Date),
    ),
  );
}

/** One of a fixed set of words; the fallback when absent or empty. */
export function choiceParameter<const Choice extends string>(
  choices: readonly [Choice, ...Choice[]],
  fallback: Choice,
) {
  return v.optional(
    v.picklist(choices, (issue) => `${JSON.stringify(issue.input)} is not one of ${choices.join(', ')}`),
    fallback,
  );
}

/** The route's parameters as its schema reads them; an empty parameter counts as absent. */
export function parseQuery<const Schema extends v.GenericSchema>(
  request: Pick<ApiRequest, 'query'>,
  schema: Schema,
): v.InferOutput<Schema> {
  const present = Object.fromEntries(Object.entries(request.query).filter(([, value]) => value !== ''));
  const result = v.safeParse(schema, present);
  if (!result.success) throw badRequest(issueLines(result.issues, schema).join('; '));
  return result.output;
}
