// The shape each Lambda entry needs of its event, checked before use so a wrong one is named, not a TypeError.

import * as v from 'valibot';
import { EXIT, LoadwatchError } from '../errors.ts';
import { issueLines } from '../validation/issues.ts';
import { isJsonObject } from '../validation/rules.ts';

export class InvalidEventError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(what: string, problems: string[], example: string) {
    super(`not ${what}: ${problems.join('; ')}; for an example see ${example}`, {
      code: 'INVALID_EVENT',
      status: 400,
      exitCode: EXIT.usage,
      problems,
    });
  }
}

/** "is required (a string)" when the field is absent, "must be a string" when it holds something else. */
const kind = (article: string) => (issue: v.BaseIssue<unknown>) =>
  issue.input === undefined ? `is required (${article})` : `must be ${article}`;

export const eventString = () => v.string(kind('a string'));

export const eventInteger = () => v.pipe(v.number(kind('a whole number')), v.integer(kind('a whole number')));

export const eventList = () => v.array(v.unknown(), kind('a list'));

/** An object holding at least these fields; the ones no schema names pass through untouched. */
export const eventObject = <const Entries extends v.ObjectEntries>(entries: Entries) =>
  v.looseObject(entries, kind('an object'));

function describeValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'empty';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

type EventReading<Output> = { output: Output; problems: [] } | { problems: string[] };

function readEvent<const Schema extends v.GenericSchema>(
  event: unknown,
  schema: Schema,
): EventReading<v.InferOutput<Schema>> {
  if (!isJsonObject(event)) {
    return { problems: [`the event is ${describeValue(event)}, not a JSON object`] };
  }
  const result = v.safeParse(schema, event);
  return result.success
    ? { output: result.output, problems: [] }
    : { problems: issueLines(result.issues, schema) };
}

/** Every field the schema names that is missing or of the wrong kind, as "field: problem" lines. */
export function eventProblems(event: unknown, schema: v.GenericSchema): string[] {
  return readEvent(event, schema).problems;
}

/** Throws InvalidEventError naming every problem; returns the event as the schema reads it. */
export function parseEvent<const Schema extends v.GenericSchema>(
  event: unknown,
  what: string,
  schema: Schema,
  example: string,
): v.InferOutput<Schema> {
  const read = readEvent(event, schema);
  if (!('output' in read)) throw new InvalidEventError(what, read.problems, example);
  return read.output;
}
