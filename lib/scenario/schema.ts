// A scenario document (flows of requests, think times and loops, with captures, checks and a data feeder): its one
// schema, every problem named by its path in the document, all at once.

import * as v from 'valibot';
import { InputError } from '../errors.ts';
import { issueLines } from '../validation/issues.ts';
import {
  characterName,
  HEADER_NAME,
  HTTP_METHODS,
  INVALID_HEADER_VALUE,
  INVALID_PATH,
  isJsonObject,
  parseDuration,
} from '../validation/rules.ts';
import { compileJsonPath } from './json-path.ts';
import { compileTemplate, VARIABLE_NAME } from './template.ts';

/** The caps a scenario document is held to, each named in the problem that goes over it. */
export const SCENARIO_CAPS = {
  /** Request steps (each step inside a loop counted once): each is measured on its own. */
  steps: 50,
  flows: 20,
  checksPerStep: 20,
  loopCount: 1000,
  /** Requests one iteration may send, loops unrolled. */
  requestsPerIteration: 10_000,
  /** A data feeder's rows, as JSON: they are stored with the run and read by every shard. */
  dataBytes: 1_000_000,
} as const;

export type Capture = { json: string } | { header: string } | { regex: string };

export type Check = v.InferOutput<typeof check>;
export type RequestStep = v.InferOutput<typeof requestStep>;
export type ThinkStep = v.InferOutput<typeof thinkStep>;

export interface LoopStep {
  loop: { count: number; steps: Step[] };
}

export type Step = RequestStep | ThinkStep | LoopStep;
export type Flow = v.InferOutput<typeof flow>;

export type DataRow = Record<string, string>;

export interface ScenarioData {
  order: 'sequential' | 'random';
  /** vu: a virtual user keeps one row for all its iterations; iteration: each iteration takes the next. */
  per: 'vu' | 'iteration';
  /** Rows as sent; a stored run keeps them in loadtest_data_rows and only their count here. */
  rows?: DataRow[];
  rowCount: number;
  columns: string[];
}

export type Scenario = v.InferOutput<typeof scenario>;

export class ScenarioError extends InputError {
  constructor(problems: string[]) {
    super(problems, 'INVALID_SCENARIO', 'invalid scenario');
  }
}

const describe = (value: unknown) => JSON.stringify(value)?.slice(0, 60) ?? String(value);

/** A strict object's message: an unknown key is named with the keys it may hold, anything else gets `shape`. */
const strictMessage = (what: string, keys: string, shape: string) => (issue: v.BaseIssue<unknown>) =>
  issue.expected === 'never'
    ? `is not a key of ${what} (${keys})`
    : issue.received === 'undefined' && issue.path?.at(-1)?.origin === 'key'
      ? 'is required'
      : shape;

/**
 * Problems a value of the right form may hold, each added with its own path when it has one. A transformation
 * that changes nothing: the load-test input's JSON Schema (input mode) describes a field's form and stops at it.
 */
function rawProblems<T>(find: (context: v.RawTransformContext<T>) => void) {
  return v.rawTransform<T, T>((context) => {
    find(context);
    return context.dataset.value;
  });
}

/** The problem of compiling a value, named by the compiler's message: a template, a JSON path, a pattern. */
const compileProblems = (compile: (text: string) => unknown, prefix = '') =>
  rawProblems<string>(({ dataset, addIssue }) => {
    try {
      compile(dataset.value);
    } catch (error) {
      addIssue({ message: `${prefix}${(error as Error).message}` });
    }
  });

const templateProblems = compileProblems(compileTemplate);

/** A template: compiled here so that a wrong expression is named by its field. */
const template = (what = 'a string') =>
  v.pipe(
    v.union([v.string(), v.number(), v.boolean()], (issue) => `${describe(issue.input)} is not ${what}`),
    v.transform(String),
    templateProblems,
  );

const path = v.pipe(
  v.string((issue) => `${describe(issue.input)} must be a path starting with "/"`),
  v.startsWith('/', (issue) => `${describe(issue.input)} must be a path starting with "/"`),
  v.check(
    (value) => !INVALID_PATH.test(value.replace(/\{\{.*?\}\}/g, '')),
    (issue) => `holds ${characterName(String(issue.input), INVALID_PATH)}; percent-encode it`,
  ),
  templateProblems,
);

const method = v.pipe(
  v.string((issue) => `${describe(issue.input)} is not one of ${HTTP_METHODS.join(', ')}`),
  v.transform((value) => value.toUpperCase()),
  v.picklist(HTTP_METHODS, (issue) => `"${String(issue.input)}" is not one of ${HTTP_METHODS.join(', ')}`),
);

const headerValue = v.pipe(
  template('a header value'),
  v.check(
    (value) => !INVALID_HEADER_VALUE.test(value),
    (issue) => `holds ${characterName(String(issue.input), INVALID_HEADER_VALUE)}`,
  ),
);

const isHeaderName = v.check(
  (name: string) => HEADER_NAME.test(name),
  (issue) => `${describe(issue.input)} is not a header name`,
);

const headers = v.pipe(
  v.record(v.pipe(v.string(), isHeaderName), headerValue, 'must be an object of header names to values'),
  v.transform((value) =>
    Object.fromEntries(Object.entries(value).map(([name, text]) => [name.toLowerCase(), text])),
  ),
);

const jsonPath = v.pipe(
  v.string('must be a JSON path such as $.data.token'),
  compileProblems(compileJsonPath),
);

const regularExpression = v.pipe(
  v.string('must be a regular expression'),
  compileProblems((text) => new RegExp(text), 'is not a regular expression: '),
);

const headerName = v.pipe(
  v.string('must be a header name'),
  isHeaderName,
  v.transform((value) => value.toLowerCase()),
);

/** Exactly one of `keys` present: what a capture or a check reads. */
function exactlyOne<T extends Record<string, unknown>>(keys: string[], what: string) {
  return v.check<T, v.ErrorMessage<v.CheckIssue<T>>>(
    (value) => keys.filter((key) => value[key] !== undefined).length === 1,
    (issue: v.CheckIssue<T>) => {
      const given = keys.filter((key) => (issue.input as T)[key] !== undefined);
      return given.length === 0
        ? `${what} needs one of ${keys.join(', ')}`
        : `${what} reads one thing; it has ${given.join(' and ')}`;
    },
  );
}

const capture = v.pipe(
  v.strictObject(
    { json: v.optional(jsonPath), header: v.optional(headerName), regex: v.optional(regularExpression) },
    strictMessage(
      'a capture',
      'json, header or regex',
      'must be an object such as { json: "$.data.token" }, { header: "x-id" } or { regex: "id=(\\\\d+)" }',
    ),
  ),
  exactlyOne(['json', 'header', 'regex'], 'a capture'),
  v.transform((value) => value as Capture),
);

/** Milliseconds, or a duration such as "1s"; `accepts` bounds it and `bounds` names those bounds. */
const duration = (shape: string, accepts: (ms: number) => boolean, bounds: string) =>
  v.pipe(
    v.union([v.number(), v.string()], shape),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const ms = parseDuration(dataset.value, 'ms');
      if (ms !== null && accepts(ms)) return ms;
      addIssue({ message: `${describe(dataset.value)} is not a duration ${bounds}` });
      return NEVER;
    }),
  );

const latency = duration(
  'must be milliseconds, e.g. 300 or "300ms"',
  (ms) => ms > 0,
  'over 0 (e.g. 300 or "1s")',
);

const statusCode = v.pipe(
  v.number('must be an HTTP status such as 200'),
  v.integer('must be an HTTP status such as 200'),
  v.minValue(100, 'must be an HTTP status from 100 to 599'),
  v.maxValue(599, 'must be an HTTP status from 100 to 599'),
);

/** A step's or a check's own name, as the report shows it. */
const nameField = v.optional(
  v.pipe(
    v.string('must be a string'),
    v.minLength(1, 'must not be empty'),
    v.maxLength(100, 'is over 100 characters'),
  ),
);

const CHECK_SUBJECTS = ['status', 'json', 'header', 'bodyContains', 'latencyUnder'];

const check = v.pipe(
  v.strictObject(
    {
      name: nameField,
      status: v.optional(
        v.pipe(
          v.union([statusCode, v.array(statusCode)], 'must be an HTTP status or a list of them'),
          v.transform((value) => (Array.isArray(value) ? value : [value])),
          v.check((value) => value.length > 0, 'must list at least one status'),
        ),
      ),
      json: v.optional(jsonPath),
      header: v.optional(headerName),
      exists: v.optional(v.boolean('must be true or false')),
      equals: v.optional(v.unknown()),
      matches: v.optional(regularExpression),
      bodyContains: v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))),
      latencyUnder: v.optional(latency),
      // A failed check ends the iteration (its reason counted) instead of carrying on.
      abortIteration: v.optional(v.boolean('must be true or false'), false),
    },
    strictMessage(
      'a check',
      `${CHECK_SUBJECTS.join(', ')}, exists, equals, matches, name, abortIteration`,
      'must be an object such as { status: 200 } or { json: "$.id", exists: true }',
    ),
  ),
  exactlyOne(CHECK_SUBJECTS, 'a check'),
  v.check(
    (value) =>
      (value.exists === undefined && value.equals === undefined && value.matches === undefined) ||
      value.json !== undefined ||
      value.header !== undefined,
    'exists, equals and matches apply to json and header checks only',
  ),
  v.check(
    (value) => [value.exists, value.equals, value.matches].filter((item) => item !== undefined).length <= 1,
    'give one of exists, equals or matches',
  ),
);

type IssuePath = [v.IssuePathItem, ...v.IssuePathItem[]];

/** An issue path from keys: lib/validation/issues.ts names a field by its keys alone. */
const issuePath = (...keys: Array<string | number>) =>
  keys.map((key) => ({
    type: 'object',
    origin: 'value',
    input: undefined,
    key,
    value: undefined,
  })) as unknown as IssuePath;

/** Every string of a JSON body is a template. */
function checkJsonTemplates(
  value: unknown,
  keys: Array<string | number>,
  addIssue: (info: { message: string; path: IssuePath }) => void,
): void {
  if (typeof value === 'string') {
    try {
      compileTemplate(value);
    } catch (error) {
      addIssue({ message: (error as Error).message, path: issuePath(...keys) });
    }
  } else if (Array.isArray(value))
    value.forEach((entry, index) => {
      checkJsonTemplates(entry, [...keys, index], addIssue);
    });
  else if (isJsonObject(value))
    for (const [key, entry] of Object.entries(value)) checkJsonTemplates(entry, [...keys, key], addIssue);
}

const requestStep = v.pipe(
  v.strictObject(
    {
      name: nameField,
      method: v.optional(method, 'GET'),
      path,
      headers: v.optional(headers, {}),
      query: v.optional(
        v.record(v.string(), template('a string or number'), 'must be an object of names to values'),
        {},
      ),
      // Sent as JSON (content-type application/json unless given); its strings are templates.
      json: v.optional(v.unknown()),
      body: v.optional(
        v.pipe(
          template(),
          v.check((value) => !value.includes('\0'), 'holds NUL, which is not allowed'),
        ),
      ),
      capture: v.optional(
        v.record(
          v.pipe(
            v.string(),
            v.regex(
              VARIABLE_NAME,
              (issue) => `${describe(issue.input)} is not a name (letters, digits, _ and -)`,
            ),
          ),
          capture,
          'must be an object of names to { json | header | regex }',
        ),
        {},
      ),
      checks: v.optional(
        v.pipe(
          v.array(check, 'must be a list of checks'),
          v.maxLength(SCENARIO_CAPS.checksPerStep, `holds over ${SCENARIO_CAPS.checksPerStep} checks`),
        ),
        [],
      ),
    },
    strictMessage(
      'a request step',
      'name, method, path, headers, query, json, body, capture, checks',
      'must be a request { method, path, … }, { think: "1s" } or { loop: { count, steps } }',
    ),
  ),
  v.check((value) => value.json === undefined || value.body === undefined, 'give json or body, not both'),
  rawProblems(({ dataset, addIssue }) => {
    if (dataset.value.json !== undefined) checkJsonTemplates(dataset.value.json, ['json'], addIssue);
  }),
);

const thinkStep = v.strictObject(
  {
    // Milliseconds.
    think: duration(
      'must be milliseconds or a duration such as "1s"',
      (ms) => ms <= 600_000,
      'up to 10m (e.g. 500 or "1s")',
    ),
  },
  strictMessage('a think step', 'think', 'must be { think }'),
);

const steps: v.GenericSchema<unknown, Step[]> = v.lazy(() =>
  v.pipe(v.array(step, 'must be a list of steps'), v.minLength(1, 'must hold at least one step')),
);

const loopStep = v.strictObject(
  {
    loop: v.strictObject(
      {
        count: v.pipe(
          v.number('must be a whole number'),
          v.integer('must be a whole number'),
          v.minValue(1, 'must be at least 1'),
          v.maxValue(SCENARIO_CAPS.loopCount, `is over the cap of ${SCENARIO_CAPS.loopCount}`),
        ),
        steps,
      },
      strictMessage('a loop', 'count, steps', 'must be { count, steps }'),
    ),
  },
  strictMessage('a loop step', 'loop', 'must be { loop: { count, steps } }'),
);

// The step's kind is chosen by its key, so that a problem is named against the kind it is; read without an input
// (the JSON Schema export), it is any of the three.
const step: v.GenericSchema<unknown, Step> = v.lazy((input) =>
  input === undefined
    ? (v.union([thinkStep, loopStep, requestStep]) as v.GenericSchema<unknown, Step>)
    : isJsonObject(input) && 'think' in input
      ? thinkStep
      : isJsonObject(input) && 'loop' in input
        ? loopStep
        : requestStep,
);

const flow = v.strictObject(
  {
    name: v.optional(v.pipe(v.string('must be a string'), v.maxLength(100, 'is over 100 characters'))),
    weight: v.optional(
      v.pipe(
        v.number('must be a number'),
        v.minValue(0, 'must be at least 0'),
        v.maxValue(1_000_000, 'is over the cap of 1000000'),
      ),
      1,
    ),
    steps,
  },
  strictMessage('a flow', 'name, weight, steps', 'must be { name?, weight?, steps }'),
);

const dataValue = v.pipe(
  v.union([v.string(), v.number(), v.boolean()], 'must be a string, number or boolean'),
  v.transform(String),
);

const data = v.pipe(
  v.strictObject(
    {
      file: v.optional(v.string()),
      format: v.optional(v.picklist(['csv', 'json'], 'must be csv or json')),
      rows: v.optional(
        v.pipe(
          v.array(
            v.record(v.string(), dataValue, 'must be an object of column names to values'),
            'must be a list of rows',
          ),
          v.minLength(1, 'must hold at least one row'),
        ),
      ),
      order: v.optional(v.picklist(['sequential', 'random'], 'must be sequential or random'), 'sequential'),
      per: v.optional(v.picklist(['vu', 'iteration'], 'must be vu or iteration'), 'iteration'),
    },
    strictMessage(
      'data',
      'file, rows, format, order, per',
      'must be { file or rows, format?, order?, per? }',
    ),
  ),
  rawProblems(({ dataset, addIssue }) => {
    const { file, rows } = dataset.value;
    if (file !== undefined)
      addIssue({
        message: 'file is read by the CLI only (loadwatch loadtest scenario.yml); send its rows as data.rows',
      });
    else if (rows === undefined) addIssue({ message: 'needs rows (or, with the CLI, a file)' });
    else {
      const bytes = Buffer.byteLength(JSON.stringify(rows));
      if (bytes > SCENARIO_CAPS.dataBytes)
        addIssue({ message: `rows take ${bytes} bytes as JSON, over the cap of ${SCENARIO_CAPS.dataBytes}` });
    }
  }),
  v.transform(({ rows = [], order, per }): ScenarioData => {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    return { order, per, rows, rowCount: rows.length, columns };
  }),
);

/** The request steps in document order, with their keys in the document, loops walked once. */
export function requestSteps(flows: Flow[]): Array<{ step: RequestStep; keys: Array<string | number> }> {
  const found: Array<{ step: RequestStep; keys: Array<string | number> }> = [];
  const walk = (list: Step[], keys: Array<string | number>) => {
    list.forEach((item, index) => {
      if ('loop' in item) walk(item.loop.steps, [...keys, index, 'loop', 'steps']);
      else if (!('think' in item)) found.push({ step: item, keys: [...keys, index] });
    });
  };
  flows.forEach((item, index) => {
    walk(item.steps, ['flows', index, 'steps']);
  });
  return found;
}

/** "flows[0].steps[2]" from its keys. */
const keysText = (keys: Array<string | number>) =>
  keys.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`)).join('');

/** The name a step is reported under: its own, or "METHOD /path" as written. */
export const stepName = (step: RequestStep) => step.name ?? `${step.method} ${step.path}`;

/** What the steps of one iteration add up to, loops unrolled. */
const perIteration =
  (ownValue: (step: RequestStep | ThinkStep) => number) =>
  (list: Step[]): number =>
    list.reduce(
      (sum, item) =>
        sum + ('loop' in item ? item.loop.count * perIteration(ownValue)(item.loop.steps) : ownValue(item)),
      0,
    );

/** Requests one iteration of a flow sends, loops unrolled. */
export const requestsPerIteration = perIteration((step) => ('think' in step ? 0 : 1));

/** Milliseconds one iteration of a flow thinks, loops unrolled. */
export const thinkMsPerIteration = perIteration((step) => ('think' in step ? step.think : 0));

const scenario = v.pipe(
  v.strictObject(
    {
      flows: v.pipe(
        v.array(flow, 'must be a list of flows'),
        v.minLength(1, 'must hold at least one flow'),
        v.maxLength(SCENARIO_CAPS.flows, `holds over ${SCENARIO_CAPS.flows} flows`),
      ),
      data: v.optional(data),
    },
    strictMessage('a scenario', 'flows, data', 'a scenario must be an object { flows: [...], data? }'),
  ),
  rawProblems(({ dataset, addIssue }) => {
    const { flows } = dataset.value;
    const found = requestSteps(flows);
    if (found.length > SCENARIO_CAPS.steps)
      addIssue({
        message: `${found.length} request steps, over the cap of ${SCENARIO_CAPS.steps}`,
        path: issuePath('flows'),
      });
    if (flows.length > 0 && flows.every((item) => item.weight === 0))
      addIssue({ message: 'at least one weight must be over 0', path: issuePath('flows') });
    flows.forEach((item, index) => {
      const requests = requestsPerIteration(item.steps);
      if (requests === 0) addIssue({ message: 'sends no request', path: issuePath('flows', index, 'steps') });
      if (requests > SCENARIO_CAPS.requestsPerIteration)
        addIssue({
          message: `${requests} requests per iteration with its loops, over the cap of ${SCENARIO_CAPS.requestsPerIteration}`,
          path: issuePath('flows', index, 'steps'),
        });
    });
    // Steps sharing a name are one entry of the report, so they must be the same request.
    const byName = new Map<string, { method: string; path: string; at: string }>();
    for (const { step: request, keys } of found) {
      const name = stepName(request);
      const first = byName.get(name);
      if (!first) byName.set(name, { method: request.method, path: request.path, at: keysText(keys) });
      else if (first.method !== request.method || first.path !== request.path)
        addIssue({
          message: `"${name}" already names ${first.at} (${first.method} ${first.path}); a name is one step`,
          path: issuePath(...keys, 'name'),
        });
    }
  }),
);

/** The load-test input's optional `scenario`: its problems are named under it ("scenario.flows[0]…"). */
export const scenarioField = v.optional(
  v.pipe(
    scenario as v.GenericSchema<unknown, Scenario>,
    v.description('Weighted flows of steps with captures, checks and a data feeder; replaces the endpoints.'),
  ),
);

/**
 * Validates a scenario document; throws ScenarioError with one line per problem, each named by its path in the
 * document: under `field` in a load-test request ("scenario.flows[0].path: …"), after the file's name on the CLI
 * ("checkout.yml: flows[0].path: …").
 */
export function parseScenario(input: unknown, where: { field?: string; file?: string } = {}): Scenario {
  const result = v.safeParse(scenario, input);
  if (result.success) return result.output;
  const lines = issueLines(result.issues, scenario as v.GenericSchema, where.field ?? '');
  const named = where.file === undefined ? lines : lines.map((line) => `${where.file}: ${line}`);
  throw new ScenarioError([...new Set(named)]);
}
