// The fields of a load-test input that take more than a number: one schema each, with the message for a bad value.

import * as v from 'valibot';
import { byKind, itemPath, readWith } from '../validation/combinators.ts';
import {
  characterName,
  durationField,
  HEADER_NAME,
  HTTP_METHODS,
  type HttpMethod,
  INVALID_HEADER_VALUE,
  INVALID_PATH,
  isJsonObject,
  numberField,
  readHttpUrl,
} from '../validation/rules.ts';
import type { LoadTestLimits } from './limits.ts';
import { targetRefusal } from './target-rules.ts';
import { parseThreshold } from './thresholds.ts';

/** The base URL of the API under test, without a trailing slash; `fallback` (the service's own API) when absent. */
export function targetField(limits: LoadTestLimits, fallback: string | undefined) {
  const required = 'is required (the base URL of the API under test, e.g. https://api.example.com)';
  return v.pipe(
    // Typed as always there, so that the options always have a target; a missing one is refused below.
    v.nullish(v.string(required), fallback as string),
    v.description(
      'Base URL of the API under test, e.g. https://api.example.com; it must be on the allowlist.',
    ),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const raw: string | undefined = dataset.value;
      if (raw === undefined || raw === '') {
        addIssue({ message: required });
        return NEVER;
      }
      const url = readHttpUrl(raw);
      if (!(url instanceof URL)) {
        addIssue({
          message:
            url === 'not a URL'
              ? `"${raw}" is not a URL (e.g. http://localhost:3000)`
              : `"${raw}" must use http or https`,
        });
        return NEVER;
      }
      const target = `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
      const refusal = targetRefusal(target, limits);
      if (refusal === undefined) return target;
      addIssue({ message: refusal });
      return NEVER;
    }),
  );
}

const notMethod = (issue: { input: unknown }) =>
  `"${String(issue.input)}" is not one of ${HTTP_METHODS.join(', ')}`;

/** An HTTP method in any case, sent upper-case. */
export const methodField = v.pipe(
  v.optional(
    v.pipe(
      v.string(notMethod),
      v.check((method) => (HTTP_METHODS as readonly string[]).includes(method.toUpperCase()), notMethod),
      v.transform((method) => method.toUpperCase() as HttpMethod),
    ),
  ),
  v.description(`One of ${HTTP_METHODS.join(', ')}, in any case (default GET).`),
);

/** Header name and value from a "Name: value" line; the value is missing when there is no colon after a name. */
function headerLine(item: unknown): [string, unknown] {
  const text = String(item);
  const colon = text.indexOf(':');
  return colon > 0 ? [text.slice(0, colon).trim(), text.slice(colon + 1).trim()] : [text, undefined];
}

function headerProblem(name: string, value: unknown): string | undefined {
  if (!HEADER_NAME.test(name)) return `${JSON.stringify(name)} is not a header name`;
  if (typeof value !== 'string') return `"${name}" needs a string value ("Name: value")`;
  if (INVALID_HEADER_VALUE.test(value))
    return `"${name}" has a value holding ${characterName(value, INVALID_HEADER_VALUE)}`;
  return undefined;
}

/** Header names to values, or "Name: value" lines (the CLI's --header); the names lower-cased. */
export const headersField = v.pipe(
  v.optional(
    v.pipe(
      v.union(
        [v.array(v.unknown()), v.record(v.string(), v.unknown()), v.null()],
        'must be an object of header names to values',
      ),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const value = dataset.value ?? {};
        const headers: Record<string, string> = {};
        let valid = true;
        for (const [name, headerValue] of Array.isArray(value)
          ? value.map(headerLine)
          : Object.entries(value)) {
          const problem = headerProblem(name, headerValue);
          if (problem === undefined) headers[name.toLowerCase()] = headerValue as string;
          else {
            addIssue({ message: problem });
            valid = false;
          }
        }
        return valid ? headers : NEVER;
      }),
    ),
  ),
  v.description('Header names to values ({"Authorization": "Bearer …"}) or "Name: value" lines.'),
);

/**
 * A request body, sent as given when text and as JSON otherwise (`json` then asks for the content type).
 * The run is stored in PostgreSQL, whose text cannot hold NUL.
 */
export const bodyField = v.pipe(
  v.optional(
    v.pipe(
      v.unknown(),
      v.transform((body) => ({
        text: typeof body === 'string' ? body : (JSON.stringify(body) as string),
        json: typeof body !== 'string',
      })),
      v.check(
        (body) => !body.text.includes('\0'),
        (issue) => `holds ${characterName(issue.input.text, /\0/)}`,
      ),
    ),
  ),
  v.description(
    'The request body: text as given, anything else as JSON (with Content-Type: application/json).',
  ),
);

const notPath = (issue: { input: unknown }) =>
  `${JSON.stringify(issue.input)} must be a path starting with "/"`;
const path = v.pipe(
  v.string(notPath),
  v.startsWith('/', notPath),
  v.check(
    (text) => !INVALID_PATH.test(text),
    (issue) => `holds ${characterName(issue.input, INVALID_PATH)}; percent-encode it`,
  ),
);

const endpointObject = v.looseObject(
  {
    path,
    method: methodField,
    headers: headersField,
    body: bodyField,
    weight: v.pipe(
      numberField({ min: 0, max: 1_000_000 }),
      v.description('Share of the requests (default 1).'),
    ),
  },
  // The only issue left to the object itself: no path at all.
  notPath,
);

/** An endpoint as the input gives it, before the input's method, headers and body fill in what it leaves out. */
export type EndpointAsGiven = v.InferOutput<typeof endpointObject>;

/** An endpoint: a path alone, or a path with its own method, headers, body and weight. */
export const endpointField = byKind(
  [
    v.pipe(
      v.string(),
      v.transform((text) => ({ path: text })),
      v.object({ path }),
    ),
    endpointObject,
  ],
  () => 'must be a path such as "/health" or an object {path, method, headers, body, weight}',
);

const listMessage = 'must be a non-empty list of paths or {path, method, headers, body, weight}';
export const endpointsField = v.optional(
  v.pipe(
    v.array(endpointField, listMessage),
    v.minLength(1, listMessage),
    v.description('Endpoints picked at random in proportion to their weights.'),
  ),
);

/** Pass/fail rules, one expression or a list: "p95<300", "errors<1%", "rps>=100". */
export const thresholdsField = v.pipe(
  v.optional(
    v.pipe(
      v.union([v.string(), v.array(v.string())], 'must be a threshold such as "p95<300" or a list of them'),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const list = Array.isArray(dataset.value) ? dataset.value : [dataset.value];
        const thresholds: string[] = [];
        list.forEach((expression, index) => {
          try {
            thresholds.push(parseThreshold(expression).expression);
          } catch (error) {
            addIssue({ message: (error as Error).message, path: [itemPath(list, index)] });
          }
        });
        return thresholds.length === list.length ? thresholds : NEVER;
      }),
    ),
    [],
  ),
  v.description('Pass/fail rules: "p95<300", "errors<1%", "rps>=100"; one or a list.'),
);

const notStage = (given: string) => `${given} is not a stage: it needs a duration and a rate, as "30s:100"`;
const missing = (part: unknown) => part === undefined || part === null || part === '';

/** A ramp-up as read: one duration to ramp linearly over, or stages each ending at its own rate. */
export type RampUp = { linearSeconds: number } | { stages: Array<{ durationSeconds: number; to: number }> };

/** "30s" (0 to the rate over 30 s), "10s:50,30s:200" or [{duration, rate}]: stages starting from 0 req/s. */
export function rampUpField(limits: LoadTestLimits) {
  const duration = durationField({ unit: 's', maxMs: limits.maxDurationSeconds * 1000 });
  const stage = v.object({
    duration,
    rate: numberField({ min: 0, max: limits.maxRate, cap: 'LOADTEST_MAX_RATE' }),
  });
  const field = v.optional(
    v.pipe(
      v.union(
        [v.number(), v.string(), v.array(v.unknown()), v.null()],
        'must be a duration ("30s") or stages ("10s:50,30s:200" or [{"duration": "10s", "rate": 50}])',
      ),
      v.rawTransform(({ dataset, addIssue, NEVER }): RampUp | undefined => {
        const value = dataset.value;
        if (value === null || value === '') return undefined;
        if (typeof value === 'number' || (typeof value === 'string' && !value.includes(':'))) {
          const read = readWith(duration, value, addIssue);
          if (!read.ok) return NEVER;
          return read.output === undefined ? undefined : { linearSeconds: read.output / 1000 };
        }
        // Each stage as given (for the message) and its two parts; a part left empty counts as missing.
        const items = Array.isArray(value)
          ? value.map((item: unknown) => {
              const parts: Record<string, unknown> = isJsonObject(item) ? item : {};
              return {
                given: JSON.stringify(item) ?? String(item),
                duration: parts.duration,
                rate: parts.rate,
              };
            })
          : value.split(',').map((part) => {
              const pieces = part.split(':').map((piece) => piece.trim());
              const [duration, rate] = pieces.length === 2 ? pieces : [];
              return { given: JSON.stringify(part), duration, rate };
            });
        const stages: Array<{ durationSeconds: number; to: number }> = [];
        let valid = true;
        items.forEach((item, index) => {
          const at = itemPath(items, index);
          if (missing(item.duration) || missing(item.rate)) {
            addIssue({ message: notStage(item.given), path: [at] });
            valid = false;
            return;
          }
          const read = readWith(stage, { duration: item.duration, rate: item.rate }, addIssue, [at]);
          if (!read.ok) valid = false;
          else
            stages.push({ durationSeconds: (read.output.duration ?? 0) / 1000, to: read.output.rate ?? 0 });
        });
        return valid ? { stages } : NEVER;
      }),
    ),
  );
  return v.pipe(
    field,
    v.description(
      'Open model: ramp from 0 to rate over one duration ("30s"), or in stages each ending at its own rate: "10s:50,30s:200" or [{"duration": "10s", "rate": 50}].',
    ),
  );
}
