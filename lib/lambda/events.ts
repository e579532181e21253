// The shape each Lambda entry needs of its event, checked before use so a wrong one is named, not a TypeError.

import { EXIT, LoadwatchError } from '../errors.ts';

export type FieldKind = 'string' | 'integer' | 'object' | 'array';

/** A field by its dotted path ("requestContext.http.method") and the kind of value it must hold. */
export type FieldRule = readonly [path: string, kind: FieldKind];

export class InvalidEventError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(what: string, problems: string[], example: string) {
    super(`not ${what}: ${problems.join('; ')}; for an example see ${example}`, {
      code: 'INVALID_EVENT',
      status: 400,
      exitCode: EXIT.usage,
      problems,
    });
    this.name = 'InvalidEventError';
  }
}

function holds(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

const ARTICLE: Record<FieldKind, string> = {
  string: 'a string',
  integer: 'a whole number',
  object: 'an object',
  array: 'a list',
};

/** Every field the rules name that is missing or of the wrong kind, as "field: problem" lines. */
export function eventProblems(event: unknown, rules: readonly FieldRule[]): string[] {
  if (!holds(event, 'object')) {
    return [`the event is ${describeValue(event)}, not a JSON object`];
  }
  const problems: string[] = [];
  for (const [path, kind] of rules) {
    let value: unknown = event;
    for (const part of path.split('.')) {
      value = holds(value, 'object') ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined) problems.push(`${path}: is required (${ARTICLE[kind]})`);
    else if (!holds(value, kind)) problems.push(`${path}: must be ${ARTICLE[kind]}`);
  }
  return problems;
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'empty';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** Throws InvalidEventError naming every problem; returns the event, typed, when it has the shape. */
export function checkEvent<T>(event: unknown, what: string, rules: readonly FieldRule[], example: string): T {
  const problems = eventProblems(event, rules);
  if (problems.length > 0) throw new InvalidEventError(what, problems, example);
  return event as T;
}
