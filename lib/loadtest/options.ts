// Load-test input: one schema reads every field, checks the rules between them and builds the options a run follows.
// The options' types are the schema's output.

import * as v from 'valibot';
import { scenarioField } from '../scenario/schema.ts';
import { fieldPath } from '../validation/combinators.ts';
import { issueLines } from '../validation/issues.ts';
import {
  durationField,
  type HttpMethod,
  isJsonObject,
  numberField,
  wholeNumberField,
} from '../validation/rules.ts';
import { connectionFields, parseTargetConnection } from './connection-options.ts';
import { LoadTestInputError } from './input-error.ts';
import {
  bodyField,
  type EndpointAsGiven,
  endpointField,
  endpointsField,
  headersField,
  methodField,
  type RampUp,
  rampUpField,
  targetField,
  thresholdsField,
} from './input-fields.ts';
import { DEFAULT_LIMITS, type LoadTestLimits } from './limits.ts';
import { expectedRequests, expectedRequestsExactly } from './request-count.ts';
import { reportStepDefinitions } from './step-report.ts';
import { unknownThresholdSteps } from './thresholds.ts';

/**
 * Fields the options carry as they are read, beside the ones the load models derive. Another optional field of
 * the input (a scenario, a TLS setting) is one entry here: its schema is all it needs.
 */
const CARRIED_FIELDS = {
  thresholds: thresholdsField,
  toleratedFailurePercent: v.pipe(
    numberField({ min: 0, max: 100, fallback: 0 }),
    v.description('Shards that may fail before the run is an error, in percent (default 0).'),
  ),
  scenario: scenarioField,
};

/** Every field of the input, in the order their problems are listed. */
function inputFields(limits: LoadTestLimits, defaultTarget: string | undefined) {
  const maxDurationMs = limits.maxDurationSeconds * 1000;
  return {
    target: targetField(limits, defaultTarget),
    method: methodField,
    headers: headersField,
    body: bodyField,
    endpoint: v.pipe(
      v.nullish(endpointField),
      v.description('The one endpoint to request (default "/health"); or give endpoints.'),
    ),
    endpoints: endpointsField,
    timeout: v.pipe(
      durationField({ unit: 'ms', maxMs: 120_000 }),
      v.check((ms) => ms === undefined || ms > 0, 'must be over 0'),
      v.description('Per-request timeout (default 10s).'),
    ),
    ...CARRIED_FIELDS,
    ...connectionFields,
    workers: v.pipe(
      wholeNumberField({ min: 1, max: limits.maxWorkers, cap: 'LOADTEST_MAX_WORKERS' }),
      v.description('Shards run in parallel (default: from the users or the rate).'),
    ),
    rate: v.pipe(
      numberField({ min: 0, max: limits.maxRate, cap: 'LOADTEST_MAX_RATE', aboveMin: true }),
      v.description('Open model: requests per second.'),
    ),
    duration: v.pipe(
      durationField({ unit: 's', maxMs: maxDurationMs, cap: 'LOADTEST_MAX_DURATION' }),
      v.check((ms) => ms === undefined || ms >= 1000, 'must be at least 1s'),
      v.description('Open model: how long, e.g. 60, "60s" or "2m".'),
    ),
    rampUp: rampUpField(limits),
    users: v.pipe(
      wholeNumberField({ min: 1, max: limits.maxUsers, cap: 'LOADTEST_MAX_USERS' }),
      v.description('Closed model: virtual users (default 10).'),
    ),
    requests: v.pipe(
      wholeNumberField({ min: 1, max: limits.maxRequests, cap: 'LOADTEST_MAX_REQUESTS' }),
      v.description('Closed model: requests per user (default 10).'),
    ),
    thinkTime: v.pipe(
      durationField({ unit: 'ms', maxMs: 60_000 }),
      v.description('Closed model: pause between a user\'s requests, e.g. "100ms".'),
    ),
  };
}

/** The input's fields without the rules between them: what an editor can check as it is typed. */
export function loadTestInputShape(limits: LoadTestLimits = DEFAULT_LIMITS, defaultTarget?: string) {
  return v.objectWithRest(inputFields(limits, defaultTarget), v.never('is not a load-test option'));
}

type FieldSchemas = v.ObjectSchema<ReturnType<typeof inputFields>, undefined>;
type Fields = v.InferOutput<FieldSchemas>;

/** What a user may send: the JSON body of the API and the Lambda, or the CLI's flags. */
export type LoadTestInput = v.InferInput<FieldSchemas>;

/** The headers with the content type a JSON body asks for, unless they name one. */
const withBodyType = (headers: Record<string, string>, body: { json: boolean } | undefined) =>
  body?.json && !headers['content-type'] ? { ...headers, 'content-type': 'application/json' } : headers;

/** An endpoint with the input's method, headers and body where it names none of its own. */
function completeEndpoint(
  own: EndpointAsGiven,
  defaults: { method: HttpMethod; headers: Record<string, string>; body: string | undefined },
) {
  const headers = withBodyType({ ...defaults.headers, ...own.headers }, own.body);
  const body = own.body?.text ?? defaults.body;
  return {
    path: own.path,
    method: own.method ?? defaults.method,
    headers,
    ...(body === undefined ? {} : { body }),
    weight: own.weight ?? 1,
  };
}

/** The open model's timeline: the ramp-up's stages from 0 req/s, then the steady rate for the rest. */
function timeline(rampUp: RampUp | undefined, rate: number | undefined, durationSeconds: number) {
  const stages: Array<{ durationSeconds: number; from: number; to: number }> = [];
  if (rampUp && 'linearSeconds' in rampUp) {
    if (rate !== undefined) stages.push({ durationSeconds: rampUp.linearSeconds, from: 0, to: rate });
  } else {
    let from = 0;
    for (const stage of rampUp?.stages ?? []) {
      stages.push({ durationSeconds: stage.durationSeconds, from, to: stage.to });
      from = stage.to;
    }
  }
  const rampSeconds = stages.reduce((sum, stage) => sum + stage.durationSeconds, 0);
  const steady = rate ?? 0;
  if (durationSeconds - rampSeconds > 0)
    stages.push({ durationSeconds: durationSeconds - rampSeconds, from: steady, to: steady });
  return { rampSeconds, steady, stages, peak: Math.max(steady, ...stages.map((stage) => stage.to)) };
}

const roundTo = (value: number, digits: number) => Number(value.toPrecision(digits));

function pick<T, Key extends keyof T>(object: T, keys: readonly Key[]): Pick<T, Key> {
  return Object.fromEntries(keys.map((key) => [key, object[key]])) as Pick<T, Key>;
}

type Problem = [field: string, message: string];

/**
 * The options the fields describe, and what is wrong between them. Run on every input, valid or not, with the
 * fields that failed their own schema read as absent (`failed`), so that one answer names every problem. A field
 * counts as given when the input names it, even as null or "": `{"users": ""}` beside a rate still mixes models.
 */
function resolveOptions(fields: Fields, failed: ReadonlySet<string>, limits: LoadTestLimits) {
  const problems: Problem[] = [];
  const given = (key: keyof Fields) => key in fields || failed.has(key);

  const headers = withBodyType({ ...fields.headers }, fields.body);
  const defaults = { method: fields.method ?? 'GET', headers, body: fields.body?.text };
  if (given('endpoints') && given('endpoint'))
    problems.push(['endpoint', 'give either endpoint or endpoints, not both']);
  // A scenario's flows replace the endpoints.
  for (const key of ['endpoint', 'endpoints', 'method', 'headers', 'body'] as const)
    if (given('scenario') && given(key))
      problems.push([key, 'give a scenario or the endpoint options, not both']);
  const endpoints = given('scenario')
    ? []
    : (fields.endpoints ?? [fields.endpoint ?? { path: '/health' }]).map((endpoint) =>
        completeEndpoint(endpoint, defaults),
      );
  if (fields.endpoints && endpoints.every((endpoint) => endpoint.weight === 0))
    problems.push(['endpoints', 'at least one weight must be over 0']);
  // The steps (the scenario's, or one per endpoint) are known before the run: a threshold naming another is
  // refused now. A scenario that failed its own schema has no steps to judge by.
  const stepNames = reportStepDefinitions({ endpoints, scenario: fields.scenario }).map((step) => step.name);
  if (fields.scenario || !given('scenario'))
    for (const problem of unknownThresholdSteps(fields.thresholds ?? [], stepNames))
      problems.push(['thresholds', problem]);

  const https = fields.target === undefined ? undefined : fields.target.startsWith('https:');
  const connection = parseTargetConnection(fields, https, failed);
  for (const line of connection.problems) {
    const colon = line.indexOf(': ');
    problems.push([line.slice(0, colon), line.slice(colon + 2)]);
  }

  const common = {
    target: fields.target,
    endpoints,
    timeoutMs: fields.timeout ?? 10_000,
    ...pick(fields, Object.keys(CARRIED_FIELDS) as Array<keyof typeof CARRIED_FIELDS>),
    ...(connection.connection ? { connection: connection.connection } : {}),
  };

  const before = problems.length;
  const options =
    given('rate') || given('duration')
      ? { ...common, ...openModel(fields, given, limits, problems) }
      : { ...common, ...closedModel(fields, given, failed, limits, problems) };
  // Only a timeline that is otherwise valid can be judged empty: a bad rate already has its own message.
  const timelineValid =
    problems.length === before && !['rate', 'duration', 'rampUp'].some((key) => failed.has(key));
  if (options.model === 'open' && timelineValid && expectedRequests(options) < 1) {
    problems.push([
      'rate',
      `${options.rate} req/s for ${options.durationSeconds}s${fields.rampUp ? ' with its ramp-up' : ''} sends no request (${roundTo(expectedRequestsExactly(options), 4)} due); raise the rate or the duration`,
    ]);
  }
  const totalRequests = expectedRequests(options);
  if (totalRequests > limits.maxRequests) {
    problems.push([
      'requests',
      `${totalRequests} requests in all is over the cap of ${limits.maxRequests} (LOADTEST_MAX_REQUESTS)`,
    ]);
  }
  return { options, problems };
}

function openModel(
  fields: Fields,
  given: (key: keyof Fields) => boolean,
  limits: LoadTestLimits,
  problems: Problem[],
) {
  if (given('users') || given('requests')) {
    problems.push([
      'rate',
      'the open model (rate, duration) and the closed model (users, requests) do not mix; choose one',
    ]);
  }
  if (given('thinkTime')) problems.push(['thinkTime', 'applies to the closed model (users, requests) only']);
  if (!given('rate')) problems.push(['rate', 'is required with duration (requests per second)']);
  if (!given('duration')) problems.push(['duration', 'is required with rate (seconds, e.g. 60 or 2m)']);
  const durationSeconds = (fields.duration ?? 0) / 1000;
  const { rampSeconds, steady, stages, peak } = timeline(fields.rampUp, fields.rate, durationSeconds);
  if (fields.duration !== undefined && rampSeconds > durationSeconds)
    problems.push(['rampUp', `lasts ${rampSeconds}s, longer than the duration of ${durationSeconds}s`]);
  return {
    model: 'open' as const,
    rate: steady,
    durationSeconds,
    /** The whole timeline: ramp-up stages, then the steady rate for the rest of the duration. */
    stages,
    workers: fields.workers ?? Math.max(1, Math.ceil(peak / limits.ratePerWorker)),
  };
}

function closedModel(
  fields: Fields,
  given: (key: keyof Fields) => boolean,
  failed: ReadonlySet<string>,
  limits: LoadTestLimits,
  problems: Problem[],
) {
  const users = fields.users ?? 10;
  if (given('rampUp')) problems.push(['rampUp', 'applies to the open model (rate, duration) only']);
  const workers = fields.workers ?? Math.max(1, Math.ceil(users / limits.usersPerWorker));
  if (workers > users && !failed.has('users'))
    problems.push(['workers', `${workers} is more than the ${users} users to share among them`]);
  return {
    model: 'closed' as const,
    users,
    requestsPerUser: fields.requests ?? 10,
    thinkTimeMs: fields.thinkTime ?? 0,
    workers,
  };
}

/**
 * The whole input: its fields, then the rules between them (checked even when a field failed, with that field
 * left out), then the options. `defaultTarget` is the service's own API, used when the input names none.
 */
export function loadTestInputSchema(limits: LoadTestLimits = DEFAULT_LIMITS, defaultTarget?: string) {
  return v.pipe(
    v.custom<Record<string, unknown>>(
      isJsonObject,
      'input: must be a JSON object such as {"users":10,"requests":10}',
    ),
    loadTestInputShape(limits, defaultTarget),
    v.rawCheck(({ dataset, addIssue }) => {
      const value = dataset.value as Record<string, unknown>;
      const failed = new Set((dataset.issues ?? []).map((issue) => String(issue.path?.[0]?.key)));
      const valid = Object.fromEntries(Object.entries(value).filter(([key]) => !failed.has(key)));
      // Failed fields are left out of `valid`, yet `failed` still counts them as given.
      for (const [field, message] of resolveOptions(valid as Fields, failed, limits).problems)
        addIssue({ message, path: [fieldPath(value, field)] });
    }),
    v.transform((fields) => resolveOptions(fields, new Set(), limits).options),
  );
}

export type LoadTestOptions = v.InferOutput<ReturnType<typeof loadTestInputSchema>>;
export type OpenModelOptions = Extract<LoadTestOptions, { model: 'open' }>;
export type Endpoint = LoadTestOptions['endpoints'][number];
/** A stretch of the open model: the rate goes linearly from `from` to `to` requests per second. */
export type RateStage = OpenModelOptions['stages'][number];

/** Validates and completes a load-test request. Throws LoadTestInputError listing every bad field. */
export function parseLoadTestInput(
  input: unknown,
  limits: LoadTestLimits = DEFAULT_LIMITS,
  defaultTarget?: string,
): LoadTestOptions {
  const result = v.safeParse(loadTestInputSchema(limits, defaultTarget), input);
  if (result.success) return result.output;
  // A misspelt option explains the problems after it, so the names that are no option come first.
  const issues = [...result.issues].sort((a, b) => Number(b.type === 'never') - Number(a.type === 'never'));
  throw new LoadTestInputError(issueLines(issues));
}
