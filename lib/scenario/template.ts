// `{{ name }}` templates of a scenario: compiled once into literal text and expressions, filled per request.

import { randomUUID } from 'node:crypto';

/** A value a template reads: a capture, a data column, or a built-in. */
export type TemplateExpression =
  | { kind: 'variable'; name: string }
  | { kind: 'uuid' }
  | { kind: 'timestamp' }
  | { kind: 'vu' }
  | { kind: 'iteration' }
  | { kind: 'randomInt'; min: number; max: number };

export interface Template {
  parts: Array<string | TemplateExpression>;
  /** The text itself when it holds no expression: sent as it is, prepared once. */
  constant: string | null;
}

/** What an iteration's templates read. */
export interface TemplateScope {
  vu: number;
  iteration: number;
  /** Captures of this iteration, then the data row's columns. */
  value(name: string): string | undefined;
}

/** A template names a value that this iteration does not hold (not captured yet, no such data column). */
export class MissingTemplateValue extends Error {
  readonly variable: string;
  constructor(variable: string) {
    super(`{{ ${variable} }} has no value (neither captured before this step nor a data column)`);
    this.variable = variable;
  }
}

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const EXPRESSION = /\{\{(.*?)\}\}/g;
const RANDOM_INT = /^\$randomInt\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)$/;

function compileExpression(source: string): TemplateExpression {
  const text = source.trim();
  if (text === '$uuid') return { kind: 'uuid' };
  if (text === '$timestamp') return { kind: 'timestamp' };
  if (text === '$vu') return { kind: 'vu' };
  if (text === '$iteration') return { kind: 'iteration' };
  const random = RANDOM_INT.exec(text);
  if (random) {
    const min = Number(random[1]);
    const max = Number(random[2]);
    if (min > max) throw new Error(`{{ ${text} }}: the lower bound ${min} is over the upper bound ${max}`);
    return { kind: 'randomInt', min, max };
  }
  if (text.startsWith('$'))
    throw new Error(
      `{{ ${text} }} is not a built-in ($uuid, $timestamp, $vu, $iteration, $randomInt(min,max))`,
    );
  if (!VARIABLE_NAME.test(text))
    throw new Error(`{{ ${text} }} is not a name (letters, digits, _ and -, not starting with a digit)`);
  return { kind: 'variable', name: text };
}

/** Compiles a template; throws an Error whose message says which expression is wrong. */
export function compileTemplate(text: string): Template {
  const parts: Template['parts'] = [];
  let last = 0;
  for (const match of text.matchAll(EXPRESSION)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(compileExpression(match[1] ?? ''));
    last = match.index + match[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{')) throw new Error(`"{{" at ${last + rest.indexOf('{{')} is never closed by "}}"`);
  if (rest !== '') parts.push(rest);
  const constant = parts.every((part) => typeof part === 'string') ? text : null;
  return { parts, constant };
}

function evaluate(expression: TemplateExpression, scope: TemplateScope): string {
  switch (expression.kind) {
    case 'variable': {
      const value = scope.value(expression.name);
      if (value === undefined) throw new MissingTemplateValue(expression.name);
      return value;
    }
    case 'uuid':
      return randomUUID();
    case 'timestamp':
      return String(Date.now());
    case 'vu':
      return String(scope.vu);
    case 'iteration':
      return String(scope.iteration);
    case 'randomInt':
      return String(expression.min + Math.floor(Math.random() * (expression.max - expression.min + 1)));
  }
}

/** Fills a template; `encodeValue` is applied to each value (a JSON string's or a query's escaping). */
export function renderTemplate(
  template: Template,
  scope: TemplateScope,
  encodeValue?: (value: string) => string,
): string {
  if (template.constant !== null) return template.constant;
  let text = '';
  for (const part of template.parts) {
    if (typeof part === 'string') text += part;
    else text += encodeValue ? encodeValue(evaluate(part, scope)) : evaluate(part, scope);
  }
  return text;
}
