// An http check's assertions on a response: pure functions, each failure named by the assertion that failed.

import { isDeepStrictEqual } from 'node:util';
import { readJsonPath } from '../scenario/json-path.ts';
import type { Assertion, ValueTest } from './check-schema.ts';

/**
 * `$.data.items[0].id`, `data.items[0].id` or `$["odd key"].x` as the keys and indexes to follow; null when the
 * text is no such path.
 */
export function parseJsonPath(path: string): Array<string | number> | null {
  const segments: Array<string | number> = [];
  let rest = path.startsWith('$') ? path.slice(1) : path.length > 0 ? `.${path}` : path;
  if (rest === '') return path === '$' ? segments : null;
  while (rest.length > 0) {
    const match =
      rest.match(/^\.([A-Za-z_$][\w$-]*)/) ??
      rest.match(/^\[(\d+)\]/) ??
      rest.match(/^\["((?:[^"\\]|\\.)*)"\]/);
    if (!match || match[1] === undefined) return null;
    const token = match[0];
    if (token.startsWith('[') && !token.startsWith('["')) segments.push(Number(match[1]));
    else if (token.startsWith('["')) segments.push(JSON.parse(`"${match[1]}"`) as string);
    else segments.push(match[1]);
    rest = rest.slice(token.length);
  }
  return segments;
}

const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

/** Why a value fails its test, or null when it passes. */
function failedTest(test: ValueTest, found: boolean, value: unknown): string | null {
  if ('exists' in test) {
    if (test.exists && !found) return 'is missing';
    if (!test.exists && found) return `exists (${shown(value)}), expected none`;
    return null;
  }
  if (!found) return 'is missing';
  if ('equals' in test)
    return isDeepStrictEqual(value, test.equals)
      ? null
      : `is ${shown(value)}, expected ${shown(test.equals)}`;
  const textValue = typeof value === 'string' ? value : JSON.stringify(value);
  return new RegExp(test.matches).test(textValue)
    ? null
    : `is ${shown(value)}, expected to match /${test.matches}/`;
}

export interface ProbedResponse {
  status: number;
  /** Header names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: string;
  latencyMs: number;
}

/** Whether any assertion reads the body, which the probe then keeps. */
export function assertionsReadBody(assertions: Assertion[]): boolean {
  return assertions.some(
    (item) => item.kind === 'json' || item.kind === 'bodyContains' || item.kind === 'bodyNotContains',
  );
}

/** One line per failed assertion, "assert[1] json $.status: is "down", expected "ok""; empty when all pass. */
export function evaluateAssertions(assertions: Assertion[], response: ProbedResponse): string[] {
  const failures: string[] = [];
  let document: { parsed: boolean; value: unknown } | undefined;
  const json = () => {
    if (!document) {
      try {
        document = { parsed: true, value: JSON.parse(response.body) };
      } catch {
        document = { parsed: false, value: undefined };
      }
    }
    return document;
  };
  assertions.forEach((assertion, index) => {
    const label = `assert[${index}]`;
    switch (assertion.kind) {
      case 'status':
        if (!assertion.statuses.includes(response.status))
          failures.push(`${label} status: ${response.status}, expected ${assertion.statuses.join(' or ')}`);
        return;
      case 'json': {
        const body = json();
        if (!body.parsed) {
          failures.push(`${label} json ${assertion.path}: the body is not JSON`);
          return;
        }
        // A parsed document holds no undefined: undefined is a step of the path that does not exist.
        const value = readJsonPath(body.value, assertion.segments);
        const failure = failedTest(assertion.test, value !== undefined, value);
        if (failure) failures.push(`${label} json ${assertion.path}: ${failure}`);
        return;
      }
      case 'header': {
        const value = response.headers[assertion.name];
        const failure = failedTest(assertion.test, value !== undefined, value);
        if (failure) failures.push(`${label} header ${assertion.name}: ${failure}`);
        return;
      }
      case 'bodyContains':
        if (!response.body.includes(assertion.text))
          failures.push(`${label} bodyContains: the body does not contain ${shown(assertion.text)}`);
        return;
      case 'bodyNotContains':
        if (response.body.includes(assertion.text))
          failures.push(`${label} bodyNotContains: the body contains ${shown(assertion.text)}`);
        return;
      case 'latencyBelow':
        if (response.latencyMs >= assertion.ms)
          failures.push(`${label} latencyBelow: ${response.latencyMs} ms, budget ${assertion.ms} ms`);
        return;
    }
  });
  return failures;
}
