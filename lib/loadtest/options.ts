// Load-test input: validation with one clear message per bad field, defaults, safety caps and the allowlist.

import { EXIT, LoadwatchError } from '../errors.ts';
import {
  characterName,
  HEADER_NAME,
  INVALID_HEADER_VALUE,
  INVALID_PATH,
  parseDuration,
  WHOLE_NUMBER,
} from '../validation/rules.ts';
import type { LambdaArchitecture } from './pricing.ts';
import { RateSchedule } from './schedule.ts';
import { endpointStepNames } from './step-report.ts';
import { parseThreshold, unknownThresholdSteps } from './thresholds.ts';
import { DEFAULT_WORKER_MEMORY_MB, workerLoadFor } from './worker-capacity.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
const METHODS: HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export interface Endpoint {
  path: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body?: string;
  weight: number;
}

/** A stretch of the open model: the rate goes linearly from `from` to `to` requests per second. */
export interface RateStage {
  durationSeconds: number;
  from: number;
  to: number;
}

interface CommonOptions {
  target: string;
  endpoints: Endpoint[];
  timeoutMs: number;
  workers: number;
  thresholds: string[];
  /** Shards that may fail before the run is an error (percent). */
  toleratedFailurePercent: number;
}

export interface ClosedModelOptions extends CommonOptions {
  model: 'closed';
  users: number;
  requestsPerUser: number;
  thinkTimeMs: number;
}

export interface OpenModelOptions extends CommonOptions {
  model: 'open';
  rate: number;
  durationSeconds: number;
  /** The whole timeline: ramp-up stages, then the steady rate for the rest of the duration. */
  stages: RateStage[];
}

export type LoadTestOptions = ClosedModelOptions | OpenModelOptions;

/** What a user may send: the JSON body of the API and the Lambda, or the CLI's flags. */
export interface LoadTestInput {
  target?: unknown;
  endpoint?: unknown;
  endpoints?: unknown;
  method?: unknown;
  headers?: unknown;
  body?: unknown;
  users?: unknown;
  requests?: unknown;
  rate?: unknown;
  duration?: unknown;
  rampUp?: unknown;
  thinkTime?: unknown;
  timeout?: unknown;
  workers?: unknown;
  thresholds?: unknown;
  toleratedFailurePercent?: unknown;
}

export interface LoadTestLimits {
  /** Hosts (host or host:port) a test may target: LOADTEST_ALLOWED_HOSTS and the service's own API. */
  allowedHosts: string[];
  /** Loopback targets without listing them: testing an app on localhost is the local stack's main use. */
  allowLoopback: boolean;
  /** Loopback ports never targeted, listed or not: the stack's own PostgreSQL. */
  refusedLoopbackPorts: number[];
  /** Runs in progress at once (LOADTEST_MAX_CONCURRENT_RUNS); one more is refused with 429. */
  maxConcurrentRuns: number;
  maxUsers: number;
  maxRate: number;
  maxDurationSeconds: number;
  maxWorkers: number;
  maxRequests: number;
  maxGbSeconds: number;
  /** Longest a worker runs one shard before handing the rest to the next round. */
  shardSeconds: number;
  workerMemoryMb: number;
  /** Per worker, when `workers` is not given: requests per second (open model) and users (closed model). */
  ratePerWorker: number;
  usersPerWorker: number;
  /** Runs whose estimated AWS cost is higher are refused. */
  maxUsd: number;
  /** The worker function's architecture, which sets its price per GB-second. */
  workerArchitecture: LambdaArchitecture;
  /** Lambda concurrency a run must leave unused in the account, for the API under test and everything else. */
  concurrencyReserve: number;
  /** The worker Lambda's timeout (LOADTEST_WORKER_TIMEOUT): a shard, start to saved result, must fit in it. */
  workerTimeoutSeconds: number;
  /** Where shards run: on Lambda behind Step Functions, or in this process (how long they take to start). */
  workersRunOn: 'lambda' | 'local';
}

export const DEFAULT_LIMITS: LoadTestLimits = {
  allowedHosts: [],
  allowLoopback: true,
  refusedLoopbackPorts: [],
  maxConcurrentRuns: 2,
  maxUsers: 10_000,
  // Internet scale by default: the GB-second and dollar caps are what guard the bill.
  maxRate: 1_000_000,
  maxDurationSeconds: 3600,
  maxWorkers: 10_000,
  maxRequests: 10_000_000,
  maxGbSeconds: 50_000,
  shardSeconds: 600,
  workerMemoryMb: DEFAULT_WORKER_MEMORY_MB,
  ratePerWorker: workerLoadFor(DEFAULT_WORKER_MEMORY_MB).ratePerWorker,
  usersPerWorker: workerLoadFor(DEFAULT_WORKER_MEMORY_MB).usersPerWorker,
  maxUsd: 25,
  workerArchitecture: 'arm64',
  concurrencyReserve: 100,
  workerTimeoutSeconds: 900,
  workersRunOn: 'local',
};

export class LoadTestInputError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '), {
      code: 'INVALID_LOADTEST',
      status: 400,
      exitCode: EXIT.usage,
      problems,
      summary: 'invalid load test',
    });
    this.name = 'LoadTestInputError';
  }
}

class Problems {
  readonly list: string[] = [];
  add(field: string, message: string) {
    this.list.push(`${field}: ${message}`);
  }
  integer(field: string, value: unknown, min: number, max: number, capName?: string): number | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    const parsed = typeof value === 'string' && WHOLE_NUMBER.test(value.trim()) ? Number(value) : value;
    if (typeof parsed !== 'number' || !Number.isInteger(parsed)) {
      this.add(field, `${JSON.stringify(value)} is not a whole number`);
      return undefined;
    }
    if (parsed < min) {
      this.add(field, `${parsed} is below the minimum of ${min}`);
      return undefined;
    }
    if (parsed > max) {
      this.add(field, `${parsed} is over the cap of ${max}${capName ? ` (${capName})` : ''}`);
      return undefined;
    }
    return parsed;
  }
  /** A number in [min, max]; with `aboveMin`, min itself is refused too (a rate of 0 sends nothing). */
  number(
    field: string,
    value: unknown,
    min: number,
    max: number,
    capName?: string,
    aboveMin = false,
  ): number | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof parsed !== 'number' || !Number.isFinite(parsed)) {
      this.add(field, `${JSON.stringify(value)} is not a number`);
      return undefined;
    }
    if (parsed < min || (aboveMin && parsed === min)) {
      this.add(field, `${parsed} must be ${aboveMin ? 'over' : 'at least'} ${min}`);
      return undefined;
    }
    if (parsed > max) {
      this.add(field, `${parsed} is over the cap of ${max}${capName ? ` (${capName})` : ''}`);
      return undefined;
    }
    return parsed;
  }
  duration(
    field: string,
    value: unknown,
    unit: 'ms' | 's',
    maxMs: number,
    capName?: string,
  ): number | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    const ms = parseDuration(value, unit);
    if (ms === null) {
      this.add(
        field,
        `${JSON.stringify(value)} is not a duration (e.g. ${unit === 's' ? '30, 30s or 2m' : '500, 500ms or 2s'})`,
      );
      return undefined;
    }
    if (ms > maxMs) {
      this.add(field, `${ms / 1000}s is over the cap of ${maxMs / 1000}s${capName ? ` (${capName})` : ''}`);
      return undefined;
    }
    return ms;
  }
}

/** A body is sent as given, but the run is stored in PostgreSQL, whose text cannot hold NUL. */
function refuseNul(problems: Problems, field: string, text: string | undefined): void {
  if (text?.includes('\0')) problems.add(field, `holds ${characterName(text, /\0/)}`);
}

function parseHeaders(problems: Problems, field: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const headers: Record<string, string> = {};
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item) => {
        const text = String(item);
        const colon = text.indexOf(':');
        return colon > 0 ? [text.slice(0, colon).trim(), text.slice(colon + 1).trim()] : [text, undefined];
      })
    : typeof value === 'object'
      ? Object.entries(value as Record<string, unknown>)
      : [];
  if (!Array.isArray(value) && typeof value !== 'object')
    problems.add(field, 'must be an object of header names to values');
  for (const [name, headerValue] of entries) {
    if (!HEADER_NAME.test(name)) {
      problems.add(field, `${JSON.stringify(name)} is not a header name`);
    } else if (typeof headerValue !== 'string') {
      problems.add(field, `"${name}" needs a string value ("Name: value")`);
    } else if (INVALID_HEADER_VALUE.test(headerValue)) {
      problems.add(
        field,
        `"${name}" has a value holding ${characterName(headerValue, INVALID_HEADER_VALUE)}`,
      );
    } else {
      headers[name.toLowerCase()] = headerValue;
    }
  }
  return headers;
}

function parseEndpoint(
  problems: Problems,
  field: string,
  value: unknown,
  defaults: Omit<Endpoint, 'path'>,
): Endpoint | null {
  const raw = typeof value === 'string' ? { path: value } : value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.add(
      field,
      'must be a path such as "/health" or an object {path, method, headers, body, weight}',
    );
    return null;
  }
  const item = raw as Record<string, unknown>;
  const path = item.path;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    problems.add(`${field}.path`, `${JSON.stringify(path)} must be a path starting with "/"`);
    return null;
  }
  if (INVALID_PATH.test(path)) {
    problems.add(`${field}.path`, `holds ${characterName(path, INVALID_PATH)}; percent-encode it`);
    return null;
  }
  const method = item.method === undefined ? defaults.method : String(item.method).toUpperCase();
  if (!METHODS.includes(method as HttpMethod)) {
    problems.add(`${field}.method`, `"${String(item.method)}" is not one of ${METHODS.join(', ')}`);
    return null;
  }
  const weight =
    item.weight === undefined ? 1 : problems.number(`${field}.weight`, item.weight, 0, 1_000_000);
  if (weight === undefined) return null;
  const body =
    item.body === undefined
      ? defaults.body
      : typeof item.body === 'string'
        ? item.body
        : JSON.stringify(item.body);
  if (item.body !== undefined) refuseNul(problems, `${field}.body`, body);
  const headers = { ...defaults.headers, ...parseHeaders(problems, `${field}.headers`, item.headers) };
  if (
    body !== undefined &&
    item.body !== undefined &&
    typeof item.body !== 'string' &&
    !headers['content-type']
  ) {
    headers['content-type'] = 'application/json';
  }
  return { path, method: method as HttpMethod, headers, ...(body === undefined ? {} : { body }), weight };
}

/** "10s:50,30s:200" or [{duration, rate}] into stages starting from 0 requests per second. */
function parseRampUp(
  problems: Problems,
  value: unknown,
  rate: number | undefined,
  limits: LoadTestLimits,
): RateStage[] {
  if (value === undefined || value === null || value === '') return [];
  const maxMs = limits.maxDurationSeconds * 1000;
  if (typeof value === 'number' || (typeof value === 'string' && !value.includes(':'))) {
    // One duration: ramp linearly from 0 to the steady rate.
    const ms = problems.duration('rampUp', value, 's', maxMs);
    return ms === undefined || rate === undefined ? [] : [{ durationSeconds: ms / 1000, from: 0, to: rate }];
  }
  // Each stage as given (for the message) and its two parts; a part left empty counts as missing.
  const items: Array<{ given: string; duration: unknown; rate: unknown }> = Array.isArray(value)
    ? value.map((item: unknown) => {
        const stage = (item !== null && typeof item === 'object' ? item : {}) as Record<string, unknown>;
        return { given: JSON.stringify(item) ?? String(item), duration: stage.duration, rate: stage.rate };
      })
    : String(value)
        .split(',')
        .map((part) => {
          const pieces = part.split(':').map((piece) => piece.trim());
          return pieces.length === 2
            ? { given: JSON.stringify(part), duration: pieces[0], rate: pieces[1] }
            : { given: JSON.stringify(part), duration: undefined, rate: undefined };
        });
  const missing = (part: unknown) => part === undefined || part === null || part === '';
  const stages: RateStage[] = [];
  let from = 0;
  items.forEach((item, index) => {
    const field = `rampUp[${index}]`;
    if (missing(item.duration) || missing(item.rate)) {
      problems.add(field, `${item.given} is not a stage: it needs a duration and a rate, as "30s:100"`);
      return;
    }
    const ms = problems.duration(`${field}.duration`, item.duration, 's', maxMs);
    const to = problems.number(`${field}.rate`, item.rate, 0, limits.maxRate, 'LOADTEST_MAX_RATE');
    if (ms === undefined || to === undefined) return;
    stages.push({ durationSeconds: ms / 1000, from, to });
    from = to;
  });
  return stages;
}

export type SpecialAddress = 'loopback' | 'link-local';

/** The eight 16-bit groups of an IPv6 address as `new URL` writes it (compressed, no dotted quad), or null. */
function ipv6Groups(address: string): number[] | null {
  const [head = '', tail] = address.split('::');
  const part = (text: string) =>
    text === '' ? [] : text.split(':').map((group) => Number.parseInt(group, 16));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group)) ? groups : null;
}

function ipv4Kind(octets: number[]): SpecialAddress | undefined {
  const [first, second] = octets;
  // 0.0.0.0/8 reaches this machine too on Linux, like 127.0.0.0/8.
  if (first === 127 || first === 0) return 'loopback';
  if (first === 169 && second === 254) return 'link-local';
  return undefined;
}

/**
 * Whether a hostname, as `new URL` normalises it (so decimal, hex and octal IPv4 spellings arrive dotted and
 * IPv6 compressed), names this machine or the link-local range where the instance metadata lives.
 */
export function specialAddress(hostname: string): SpecialAddress | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return ipv4Kind(name.split('.').map(Number));
  if (!name.startsWith('[')) return undefined;
  const groups = ipv6Groups(name.slice(1, -1));
  if (groups === null) return undefined;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // The EC2 instance metadata service's IPv6 address.
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 + g3 + g4 + g5 + g6 === 0 && g7 === 0x254) return 'link-local';
  if (g0 + g1 + g2 + g3 + g4 === 0 && (g5 === 0 || g5 === 0xffff)) {
    // ::, ::1, and IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) forms of a special IPv4.
    if (g5 === 0 && g6 === 0 && g7 <= 1) return 'loopback';
    return ipv4Kind([g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff]);
  }
  return undefined;
}

type TargetRules = Pick<LoadTestLimits, 'allowedHosts' | 'allowLoopback' | 'refusedLoopbackPorts'>;

/** Why a target may not be load-tested, or undefined when it may. */
export function targetRefusal(target: string, rules: TargetRules): string | undefined {
  const url = new URL(target);
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const kind = specialAddress(hostname);
  if (kind === 'loopback' && rules.refusedLoopbackPorts.includes(port)) {
    return `port ${port} of ${hostname} is the stack's own PostgreSQL, never a load-test target`;
  }
  const listed = rules.allowedHosts.some((allowed) => {
    const entry = allowed.toLowerCase();
    return entry === host || entry === hostname;
  });
  if (listed || (kind === 'loopback' && rules.allowLoopback)) return undefined;
  if (kind !== undefined) {
    return `host "${url.host}" is a ${kind} address, refused unless listed in LOADTEST_ALLOWED_HOSTS (host or host:port)`;
  }
  const allowlist = [
    ...(rules.allowLoopback ? ['localhost', '127.0.0.1', '[::1]'] : []),
    ...rules.allowedHosts,
  ];
  return `host "${url.host}" is not on the allowlist (${allowlist.join(', ') || 'empty'}); add it to LOADTEST_ALLOWED_HOSTS`;
}

export function isAllowedTarget(target: string, rules: TargetRules): boolean {
  return targetRefusal(target, rules) === undefined;
}

/** The limits with the database's own port refused when that database listens on this machine. */
export function refuseDatabasePort(
  limits: LoadTestLimits,
  database: { host: string; port: number },
): LoadTestLimits {
  const host =
    database.host.includes(':') && !database.host.startsWith('[') ? `[${database.host}]` : database.host;
  if (specialAddress(host) !== 'loopback') return limits;
  return { ...limits, refusedLoopbackPorts: [...new Set([...limits.refusedLoopbackPorts, database.port])] };
}

function parseTarget(
  problems: Problems,
  value: unknown,
  fallback: string | undefined,
  limits: LoadTestLimits,
): string {
  const raw = value ?? fallback;
  if (typeof raw !== 'string' || raw === '') {
    problems.add('target', 'is required (the base URL of the API under test, e.g. https://api.example.com)');
    return '';
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.add('target', `"${raw}" is not a URL (e.g. http://localhost:3000)`);
    return '';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.add('target', `"${raw}" must use http or https`);
    return '';
  }
  const target = `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
  const refusal = targetRefusal(target, limits);
  if (refusal !== undefined) problems.add('target', refusal);
  return target;
}

export function splitEvenly(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/**
 * Validates and completes a load-test request. Throws LoadTestInputError listing every bad field.
 * `defaultTarget` is the service's own API, used when the input names none.
 */
export function parseLoadTestInput(
  input: unknown,
  limits: LoadTestLimits = DEFAULT_LIMITS,
  defaultTarget?: string,
): LoadTestOptions {
  const problems = new Problems();
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new LoadTestInputError(['input: must be a JSON object such as {"users":10,"requests":10}']);
  }
  const raw = input as LoadTestInput;
  const known = new Set<string>([
    'target',
    'endpoint',
    'endpoints',
    'method',
    'headers',
    'body',
    'users',
    'requests',
    'rate',
    'duration',
    'rampUp',
    'thinkTime',
    'timeout',
    'workers',
    'thresholds',
    'toleratedFailurePercent',
  ]);
  for (const key of Object.keys(raw)) if (!known.has(key)) problems.add(key, 'is not a load-test option');

  const target = parseTarget(problems, raw.target, defaultTarget, limits);
  const method = raw.method === undefined ? 'GET' : String(raw.method).toUpperCase();
  if (!METHODS.includes(method as HttpMethod))
    problems.add('method', `"${String(raw.method)}" is not one of ${METHODS.join(', ')}`);
  const headers = parseHeaders(problems, 'headers', raw.headers);
  const body =
    raw.body === undefined ? undefined : typeof raw.body === 'string' ? raw.body : JSON.stringify(raw.body);
  refuseNul(problems, 'body', body);
  if (raw.body !== undefined && typeof raw.body !== 'string' && !headers['content-type'])
    headers['content-type'] = 'application/json';
  const defaults = {
    method: (METHODS.includes(method as HttpMethod) ? method : 'GET') as HttpMethod,
    headers,
    weight: 1,
    ...(body === undefined ? {} : { body }),
  };

  let endpoints: Endpoint[] = [];
  if (raw.endpoints !== undefined) {
    if (raw.endpoint !== undefined) problems.add('endpoint', 'give either endpoint or endpoints, not both');
    if (!Array.isArray(raw.endpoints) || raw.endpoints.length === 0) {
      problems.add('endpoints', 'must be a non-empty list of paths or {path, method, headers, body, weight}');
    } else {
      endpoints = raw.endpoints
        .map((item, index) => parseEndpoint(problems, `endpoints[${index}]`, item, defaults))
        .filter((item): item is Endpoint => item !== null);
      if (endpoints.length > 0 && endpoints.every((item) => item.weight === 0))
        problems.add('endpoints', 'at least one weight must be over 0');
    }
  } else {
    const endpoint = parseEndpoint(problems, 'endpoint', raw.endpoint ?? '/health', defaults);
    if (endpoint) endpoints = [endpoint];
  }

  const timeoutMs = problems.duration('timeout', raw.timeout, 'ms', 120_000) ?? 10_000;
  if (timeoutMs <= 0) problems.add('timeout', 'must be over 0');
  const thresholds: string[] = [];
  const thresholdList =
    raw.thresholds === undefined ? [] : Array.isArray(raw.thresholds) ? raw.thresholds : [raw.thresholds];
  thresholdList.forEach((expression, index) => {
    try {
      thresholds.push(parseThreshold(String(expression)).expression);
    } catch (error) {
      problems.add(`thresholds[${index}]`, (error as Error).message);
    }
  });
  // The endpoints' steps are known before the run: a threshold naming another is refused now.
  if (endpoints.length > 0)
    for (const problem of unknownThresholdSteps(thresholds, endpointStepNames(endpoints)))
      problems.add('thresholds', problem);
  const tolerated = problems.number('toleratedFailurePercent', raw.toleratedFailurePercent, 0, 100) ?? 0;
  const workersGiven = problems.integer('workers', raw.workers, 1, limits.maxWorkers, 'LOADTEST_MAX_WORKERS');
  const open = raw.rate !== undefined || raw.duration !== undefined;

  let options: LoadTestOptions;
  if (open) {
    const problemsBefore = problems.list.length;
    if (raw.users !== undefined || raw.requests !== undefined) {
      problems.add(
        'rate',
        'the open model (rate, duration) and the closed model (users, requests) do not mix; choose one',
      );
    }
    if (raw.thinkTime !== undefined)
      problems.add('thinkTime', 'applies to the closed model (users, requests) only');
    const rate = problems.number('rate', raw.rate, 0, limits.maxRate, 'LOADTEST_MAX_RATE', true);
    if (raw.rate === undefined) problems.add('rate', 'is required with duration (requests per second)');
    const durationMs = problems.duration(
      'duration',
      raw.duration,
      's',
      limits.maxDurationSeconds * 1000,
      'LOADTEST_MAX_DURATION',
    );
    if (raw.duration === undefined)
      problems.add('duration', 'is required with rate (seconds, e.g. 60 or 2m)');
    if (durationMs !== undefined && durationMs < 1000) problems.add('duration', 'must be at least 1s');
    const ramp = parseRampUp(problems, raw.rampUp, rate, limits);
    const durationSeconds = (durationMs ?? 0) / 1000;
    const rampSeconds = ramp.reduce((sum, stage) => sum + stage.durationSeconds, 0);
    if (durationMs !== undefined && rampSeconds > durationSeconds) {
      problems.add('rampUp', `lasts ${rampSeconds}s, longer than the duration of ${durationSeconds}s`);
    }
    const steady = rate ?? 0;
    const stages = [...ramp];
    if (durationSeconds - rampSeconds > 0)
      stages.push({ durationSeconds: durationSeconds - rampSeconds, from: steady, to: steady });
    const peak = Math.max(steady, ...ramp.map((stage) => stage.to));
    options = {
      model: 'open',
      target,
      endpoints,
      timeoutMs,
      thresholds,
      toleratedFailurePercent: tolerated,
      rate: steady,
      durationSeconds,
      stages,
      workers: workersGiven ?? Math.max(1, Math.ceil(peak / limits.ratePerWorker)),
    };
    // Only a timeline that is otherwise valid can be judged empty: a bad rate already has its own message.
    if (problems.list.length === problemsBefore && expectedRequests(options) < 1) {
      problems.add(
        'rate',
        `${steady} req/s for ${durationSeconds}s${ramp.length ? ' with its ramp-up' : ''} sends no request (${roundTo(expectedRequestsExactly(options), 4)} due); raise the rate or the duration`,
      );
    }
  } else {
    const users = problems.integer('users', raw.users, 1, limits.maxUsers, 'LOADTEST_MAX_USERS') ?? 10;
    const requestsPerUser =
      problems.integer('requests', raw.requests, 1, limits.maxRequests, 'LOADTEST_MAX_REQUESTS') ?? 10;
    const thinkTimeMs = problems.duration('thinkTime', raw.thinkTime, 'ms', 60_000) ?? 0;
    if (raw.rampUp !== undefined) problems.add('rampUp', 'applies to the open model (rate, duration) only');
    const workers = workersGiven ?? Math.max(1, Math.ceil(users / limits.usersPerWorker));
    if (workers > users)
      problems.add('workers', `${workers} is more than the ${users} users to share among them`);
    options = {
      model: 'closed',
      target,
      endpoints,
      timeoutMs,
      thresholds,
      toleratedFailurePercent: tolerated,
      users,
      requestsPerUser,
      thinkTimeMs,
      workers,
    };
  }
  const totalRequests = expectedRequests(options);
  if (totalRequests > limits.maxRequests) {
    problems.add(
      'requests',
      `${totalRequests} requests in all is over the cap of ${limits.maxRequests} (LOADTEST_MAX_REQUESTS)`,
    );
  }
  if (problems.list.length > 0) throw new LoadTestInputError(problems.list);
  return options;
}

/** The integral of the open model's rate: requests due, before the timeline counts whole ones. */
function expectedRequestsExactly(options: OpenModelOptions): number {
  return options.stages.reduce(
    (sum, stage) => sum + ((stage.from + stage.to) / 2) * stage.durationSeconds,
    0,
  );
}

const roundTo = (value: number, digits: number) => Number(value.toPrecision(digits));

/**
 * Requests the run will send: exact for the closed model; for the open one, the whole requests its
 * timeline holds, counted as the engine counts them (RateSchedule), so the estimate never promises more.
 */
export function expectedRequests(options: LoadTestOptions): number {
  if (options.model === 'closed') return options.users * options.requestsPerUser;
  return new RateSchedule(options.stages).total;
}
