// The checks file's schema: one valibot schema per kind of check, so that every problem is named by its path.

import * as v from 'valibot';
import { hasControlCharacters } from '../terminal-text.ts';
import { HEADER_NAME, INVALID_HEADER_VALUE, isHttpUrl, ORIGIN } from '../validation/rules.ts';
import { parseJsonPath } from './assertions.ts';
import type { SloObjective } from './slo.ts';

export const CHECK_KINDS = [
  'http',
  'cors',
  'database',
  'tls',
  'tcp',
  'dns',
  'heartbeat',
  'scenario',
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS'] as const;

type Issue = v.BaseIssue<unknown>;
const quoted = (value: unknown) => JSON.stringify(value);
/** The message of a setting that holds something else: `"x" is not <what>`. */
const isNot = (what: string) => (issue: Issue) => `${quoted(issue.input)} is not ${what}`;
/** A string matching `pattern`, with one message for a string that does not and for anything else. */
const matching = (pattern: RegExp, message: (issue: Issue) => string) =>
  v.pipe(v.string(message), v.regex(pattern, message));

/** A whole number in [min, max], with the messages every count and duration of the file gives. */
export function wholeNumber(min: number, max: number) {
  const notWhole = (issue: Issue) =>
    issue.input === undefined
      ? 'is required (a whole number)'
      : `${quoted(issue.input)} is not a whole number`;
  const outOfRange = (issue: Issue) => `${issue.input} is out of range (${min} to ${max})`;
  return v.pipe(
    v.number(notWhole),
    v.integer(notWhole),
    v.minValue(min, outOfRange),
    v.maxValue(max, outOfRange),
  );
}

/**
 * The message of an object schema: what it must be when it holds something else, and `is not a <setting>` for a
 * key it does not know (valibot reports both through the object's message).
 */
function objectMessage(what: string, setting: string) {
  return (issue: Issue) => (issue.expected === 'never' ? `is not ${setting}` : what);
}

const NAME_MESSAGE = (issue: Issue) => `${quoted(issue.input)} must be 1-64 letters, digits, ".", "_" or "-"`;
export const CHECK_NAME = matching(/^[\w.-]{1,64}$/, NAME_MESSAGE);

const text = (what: string) =>
  v.pipe(
    v.string(isNot(what)),
    v.check((value) => !hasControlCharacters(value), 'holds a control character'),
  );

const ORIGIN_SETTING = matching(ORIGIN, isNot('an origin (scheme://host[:port])'));

const DOWN_RULE = v.pipe(
  v.strictObject(
    {
      consecutive: v.optional(wholeNumber(1, 100)),
      failures: v.optional(wholeNumber(1, 100)),
      window: v.optional(wholeNumber(1, 1000)),
    },
    objectMessage('must be {"consecutive": N} or {"failures": X, "window": Y}', 'a down rule setting'),
  ),
  v.check(
    (down) => down.consecutive !== undefined || down.failures !== undefined || down.window !== undefined,
    'needs "consecutive", or "failures" and "window"',
  ),
  v.transform((down) =>
    down.consecutive !== undefined
      ? { consecutive: down.consecutive }
      : { failures: down.failures ?? 3, window: down.window ?? 5 },
  ),
  v.check(
    (down) => down.failures === undefined || down.window === undefined || down.failures <= down.window,
    (issue) => {
      const down = issue.input as { failures: number; window: number };
      return `failures (${down.failures}) cannot exceed window (${down.window})`;
    },
  ),
);

const ERROR_RATE_RULE = v.union(
  [
    v.pipe(
      v.union([v.null(), v.literal(false)]),
      v.transform(() => null),
    ),
    v.strictObject(
      { percent: v.optional(wholeNumber(1, 100), 50), window: v.optional(wholeNumber(1, 1000), 10) },
      objectMessage('must be {"percent", "window"}, or null to turn it off', 'an error-rate setting'),
    ),
  ],
  'must be {"percent", "window"}, or null to turn it off',
);

export interface DownRule {
  /** Down after this many failed cycles in a row… */
  consecutive?: number;
  /** …or after `failures` failed cycles among the last `window`. */
  failures?: number;
  window?: number;
}

export interface CheckRules {
  down: DownRule;
  /** Degraded when latency is over latency.warnMs (or a sample carries a warning) this many cycles in a row. */
  degradedCycles: number;
  /** Error rate over `percent` across the last `window` cycles; null to disable. */
  errorRate: { percent: number; window: number } | null;
  /** Healthy cycles in a row needed before an incident is resolved. */
  recoveryCycles: number;
  /** Minutes between reminders while an incident stays open; 0 for none. */
  reminderMinutes: number;
}

export const DEFAULT_RULES: CheckRules = {
  down: { consecutive: 3 },
  degradedCycles: 3,
  errorRate: { percent: 50, window: 10 },
  recoveryCycles: 2,
  reminderMinutes: 60,
};

/** A heartbeat is late once: there is nothing to retry, and one late beat is the news. */
export const HEARTBEAT_RULES: CheckRules = {
  ...DEFAULT_RULES,
  down: { consecutive: 1 },
  errorRate: null,
  recoveryCycles: 1,
};

function rulesSchema(defaults: CheckRules) {
  return v.optional(
    v.pipe(
      v.strictObject(
        {
          down: v.optional(DOWN_RULE),
          degradedCycles: v.optional(wholeNumber(1, 100)),
          errorRate: v.optional(ERROR_RATE_RULE),
          recoveryCycles: v.optional(wholeNumber(1, 100)),
          reminderMinutes: v.optional(wholeNumber(0, 10_080)),
        },
        objectMessage('must be an object', 'a rule setting'),
      ),
      // A setting left out is absent from the parsed object, so its default stands; an errorRate of null replaces it.
      v.transform((rules): CheckRules => ({ ...defaults, ...rules })),
    ),
    {},
  );
}

const LATENCY = v.optional(
  v.pipe(
    v.strictObject(
      { warn: v.optional(wholeNumber(1, 60_000), 1000), critical: v.optional(wholeNumber(1, 60_000)) },
      objectMessage('must be {"warn", "critical"} in ms', 'a latency setting'),
    ),
    v.check(
      (latency) => latency.critical === undefined || latency.critical >= latency.warn,
      (issue) => {
        const latency = issue.input as { warn: number; critical: number };
        return `critical (${latency.critical}) must not be below warn (${latency.warn})`;
      },
    ),
    v.transform((latency) => ({
      warnMs: latency.warn,
      criticalMs: latency.critical ?? Math.max(latency.warn, 3000),
    })),
  ),
  {},
);

const AVAILABILITY_MESSAGE = (issue: Issue) =>
  `${quoted(issue.input)} is not a percentage from 50 to 99.999 (such as 99.9)`;

/** An objective over 28 or 30 days: availability in percent, or a p95 latency in ms (95 % of samples within it). */
const SLO = v.optional(
  v.pipe(
    v.strictObject(
      {
        availability: v.optional(
          v.pipe(
            v.number(AVAILABILITY_MESSAGE),
            v.minValue(50, AVAILABILITY_MESSAGE),
            v.maxValue(99.999, AVAILABILITY_MESSAGE),
          ),
        ),
        latencyP95Ms: v.optional(wholeNumber(1, 60_000)),
        window: v.optional(v.picklist(['28d', '30d'], isNot('"28d" or "30d"')), '30d'),
      },
      objectMessage(
        'must be {"availability": 99.9} or {"latencyP95Ms": 300}, with "window": "28d" or "30d"',
        'an SLO setting',
      ),
    ),
    exactlyOneOf('availability', 'latencyP95Ms', 'needs "availability" (percent) or "latencyP95Ms"'),
    v.transform(
      (slo): SloObjective => ({
        kind: slo.availability === undefined ? 'latency' : 'availability',
        targetPercent: slo.availability ?? 95,
        ...(slo.latencyP95Ms === undefined ? {} : { latencyMs: slo.latencyP95Ms }),
        windowDays: slo.window === '28d' ? 28 : 30,
      }),
    ),
  ),
);

/** What every kind of check has: its name, timing, rules, objective and the checks it depends on. */
function commonEntries(defaults: CheckRules) {
  return {
    name: CHECK_NAME,
    timeout: v.optional(wholeNumber(100, 60_000)),
    interval: v.optional(wholeNumber(1, 86_400)),
    dependsOn: v.optional(v.array(v.string(isNot('a check name')), 'must be a list of check names'), []),
    latency: LATENCY,
    rules: rulesSchema(defaults),
    slo: SLO,
  };
}

const STATUS_MESSAGE = (issue: Issue) => `${quoted(issue.input)} must be an HTTP status or a list of them`;
const HTTP_STATUS = v.pipe(
  v.number(STATUS_MESSAGE),
  v.integer(STATUS_MESSAGE),
  v.minValue(100, STATUS_MESSAGE),
  v.maxValue(599, STATUS_MESSAGE),
);

const STATUS_LIST = v.union(
  [
    v.pipe(
      HTTP_STATUS,
      v.transform((status) => [status]),
    ),
    v.pipe(v.array(HTTP_STATUS), v.minLength(1, STATUS_MESSAGE)),
  ],
  STATUS_MESSAGE,
);

const HEADERS = v.optional(
  v.pipe(
    v.record(
      v.pipe(
        v.string(),
        v.check((name) => !hasControlCharacters(name), 'holds a control character'),
        v.regex(HEADER_NAME, isNot('a header name')),
      ),
      v.pipe(
        v.union([v.string(), v.number()], 'must be a string'),
        v.transform(String),
        v.check(
          (value) => !hasControlCharacters(value) && !INVALID_HEADER_VALUE.test(value),
          'holds a control character',
        ),
      ),
      'must be an object',
    ),
    v.transform((headers) =>
      Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    ),
  ),
  {},
);

const REGULAR_EXPRESSION = v.pipe(
  v.string(isNot('a regular expression')),
  v.check((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, isNot('a regular expression')),
);

/** What an assertion tests the value it reads for: present (or absent), equal to a value, or matching a pattern. */
export type ValueTest = { exists: boolean } | { equals: unknown } | { matches: string };

export type Assertion =
  | { kind: 'status'; statuses: number[] }
  | { kind: 'json'; path: string; segments: Array<string | number>; test: ValueTest }
  | { kind: 'header'; name: string; test: ValueTest }
  | { kind: 'bodyContains'; text: string }
  | { kind: 'bodyNotContains'; text: string }
  | { kind: 'latencyBelow'; ms: number };

const SUBJECTS = ['status', 'json', 'header', 'bodyContains', 'bodyNotContains', 'latencyBelow'] as const;
const TESTS = ['equals', 'matches', 'exists'] as const;
const namesOf = (subjects: readonly string[]) => subjects.map((subject) => `"${subject}"`).join(', ');

const JSON_PATH_MESSAGE = isNot('a JSON path like $.data.items[0].id');

const ASSERTION = v.pipe(
  v.strictObject(
    {
      status: v.optional(STATUS_LIST),
      json: v.optional(
        v.pipe(
          v.string(JSON_PATH_MESSAGE),
          v.check((path) => parseJsonPath(path) !== null, JSON_PATH_MESSAGE),
        ),
      ),
      header: v.optional(matching(HEADER_NAME, isNot('a header name'))),
      bodyContains: v.optional(text('a string')),
      bodyNotContains: v.optional(text('a string')),
      latencyBelow: v.optional(wholeNumber(1, 60_000)),
      equals: v.optional(v.unknown()),
      matches: v.optional(REGULAR_EXPRESSION),
      exists: v.optional(v.boolean(isNot('true or false'))),
    },
    objectMessage(`must be an object with one of ${namesOf(SUBJECTS)}`, 'an assertion setting'),
  ),
  v.check(
    (assertion) => SUBJECTS.filter((subject) => assertion[subject] !== undefined).length === 1,
    (issue) => {
      const given = SUBJECTS.filter(
        (subject) => (issue.input as Record<string, unknown>)[subject] !== undefined,
      );
      return given.length === 0
        ? `needs one of ${namesOf(SUBJECTS)}`
        : `give one of ${namesOf(given)}, not several`;
    },
  ),
  v.check(
    (assertion) =>
      TESTS.filter((test) => assertion[test] !== undefined).length <=
      (assertion.json !== undefined || assertion.header !== undefined ? 1 : 0),
    (issue) => {
      const assertion = issue.input as Record<string, unknown>;
      return assertion.json !== undefined || assertion.header !== undefined
        ? 'give one of "equals", "matches", "exists", not several'
        : '"equals", "matches" and "exists" go with "json" or "header"';
    },
  ),
  v.transform((assertion): Assertion => {
    const test: ValueTest =
      assertion.equals !== undefined
        ? { equals: assertion.equals }
        : assertion.matches !== undefined
          ? { matches: assertion.matches }
          : { exists: assertion.exists ?? true };
    if (assertion.status !== undefined) return { kind: 'status', statuses: assertion.status };
    if (assertion.json !== undefined)
      return {
        kind: 'json',
        path: assertion.json,
        segments: parseJsonPath(assertion.json) ?? [],
        test,
      };
    if (assertion.header !== undefined) return { kind: 'header', name: assertion.header.toLowerCase(), test };
    if (assertion.bodyContains !== undefined) return { kind: 'bodyContains', text: assertion.bodyContains };
    if (assertion.bodyNotContains !== undefined)
      return { kind: 'bodyNotContains', text: assertion.bodyNotContains };
    return { kind: 'latencyBelow', ms: assertion.latencyBelow ?? 0 };
  }),
);

const ENDPOINT_MESSAGE = (issue: Issue) =>
  `${quoted(issue.input)} must be a path starting with "/" (or give "url")`;
const ENDPOINT = v.pipe(
  v.string(ENDPOINT_MESSAGE),
  v.check(
    (endpoint) => !hasControlCharacters(endpoint),
    (issue) => `${quoted(issue.input)} holds a control character`,
  ),
  v.startsWith('/', ENDPOINT_MESSAGE),
);

const URL_SETTING = v.pipe(
  v.string(isNot('an http(s) URL')),
  v.check(isHttpUrl, isNot('an http(s) URL')),
  v.transform((url) => new URL(url).toString()),
);

/** The entries of the kinds that send an HTTP request: where to, how, and what status to expect. */
function httpEntries() {
  return {
    ...commonEntries(DEFAULT_RULES),
    url: v.optional(URL_SETTING),
    endpoint: v.optional(ENDPOINT),
    method: v.optional(
      v.pipe(
        v.string(isNot(`one of ${METHODS.join(', ')}`)),
        v.toUpperCase(),
        v.picklist(METHODS, isNot(`one of ${METHODS.join(', ')}`)),
      ),
      'GET',
    ),
    headers: HEADERS,
    expectStatus: v.optional(STATUS_LIST),
  };
}

interface HttpTarget {
  url?: string;
  endpoint?: string;
}

/** Exactly one of url and endpoint; the missing one is named as the endpoint, the usual form. */
function oneTarget<const Schema extends v.GenericSchema<unknown, HttpTarget>>(schema: Schema) {
  type Output = v.InferOutput<Schema>;
  const bothGiven = v.check<Output, string>(
    (check) => check.url === undefined || check.endpoint === undefined,
    'give "url" or "endpoint", not both',
  );
  const neitherGiven = v.rawCheck<Output>(({ dataset, addIssue }) => {
    if (dataset.typed && dataset.value.url === undefined && dataset.value.endpoint === undefined)
      addIssue({
        message: 'undefined must be a path starting with "/" (or give "url")',
        path: [
          {
            type: 'object',
            origin: 'value',
            input: dataset.value as Record<string, unknown>,
            key: 'endpoint',
            value: undefined,
          },
        ],
      });
  });
  return v.pipe(schema, bothGiven, neitherGiven);
}

const checkMessage = (kind: string) =>
  objectMessage(
    `must be an object with at least "name" and the settings of a ${kind} check`,
    'a check setting',
  );

const HTTP_CHECK = oneTarget(
  v.strictObject(
    {
      kind: v.optional(v.literal('http'), 'http'),
      ...httpEntries(),
      assert: v.optional(v.array(ASSERTION, 'must be a list of assertions'), []),
    },
    checkMessage('http'),
  ),
);

const DATABASE_CHECK = oneTarget(
  v.strictObject({ kind: v.literal('database'), ...httpEntries() }, checkMessage('database')),
);

const CORS_CHECK = oneTarget(
  v.strictObject(
    {
      kind: v.literal('cors'),
      ...httpEntries(),
      cors: v.optional(
        v.strictObject(
          {
            allowedOrigin: ORIGIN_SETTING,
            deniedOrigin: v.optional(ORIGIN_SETTING, 'https://denied.invalid'),
          },
          objectMessage('must be {"allowedOrigin", "deniedOrigin"}', 'a cors setting'),
        ),
        {} as { allowedOrigin: string },
      ),
    },
    checkMessage('cors'),
  ),
);

const HOST = v.pipe(
  v.string((issue) =>
    issue.input === undefined
      ? 'is required (a host name or address)'
      : `${quoted(issue.input)} is not a host name or address`,
  ),
  v.regex(/^([a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|[0-9a-f:]+)$/i, isNot('a host name or address')),
);

const PORT = wholeNumber(1, 65_535);

const TLS_CHECK = v.strictObject(
  {
    kind: v.literal('tls'),
    ...commonEntries(DEFAULT_RULES),
    host: HOST,
    port: v.optional(PORT, 443),
    /** The name sent for SNI and compared with the certificate; the host when that is a name. */
    servername: v.optional(HOST),
    /** A PEM file of the authorities to trust instead of Node's own list. */
    caFile: v.optional(text('a file path')),
    days: v.optional(
      v.pipe(
        v.strictObject(
          { warn: v.optional(wholeNumber(0, 3650), 30), critical: v.optional(wholeNumber(0, 3650), 7) },
          objectMessage('must be {"warn", "critical"} in days', 'a days setting'),
        ),
        v.check(
          (days) => days.critical <= days.warn,
          (issue) => {
            const days = issue.input as { warn: number; critical: number };
            return `critical (${days.critical}) must not be above warn (${days.warn})`;
          },
        ),
      ),
      {},
    ),
  },
  checkMessage('tls'),
);

const TCP_CHECK = v.strictObject(
  { kind: v.literal('tcp'), ...commonEntries(DEFAULT_RULES), host: HOST, port: PORT },
  checkMessage('tcp'),
);

const ADDRESS = v.pipe(v.string(isNot('an IP address')), v.ip(isNot('an IP address')));

const DNS_CHECK = v.strictObject(
  {
    kind: v.literal('dns'),
    ...commonEntries(DEFAULT_RULES),
    host: HOST,
    recordType: v.optional(v.picklist(['A', 'AAAA'], isNot('A or AAAA')), 'A'),
    /** The resolvers to ask (address, or address:port); the system's when empty. */
    servers: v.optional(
      v.array(
        v.pipe(
          v.string(isNot('a resolver address')),
          v.regex(
            /^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-f:]+\](:\d{1,5})?|[0-9a-f:]+)$/i,
            isNot('a resolver address (ip, ip:port or [ipv6]:port)'),
          ),
        ),
        'must be a list of resolver addresses',
      ),
      [],
    ),
    /** When given, the answer must hold at least one of these addresses and no other. */
    expect: v.optional(v.array(ADDRESS, 'must be a list of IP addresses')),
  },
  checkMessage('dns'),
);

/** One of two settings, not both: `needs` says what to give when neither is there. */
function exactlyOneOf<T extends Record<string, unknown>>(first: string, second: string, needs: string) {
  return v.check<T, v.ErrorMessage<v.CheckIssue<T>>>(
    (check) => (check[first] === undefined) !== (check[second] === undefined),
    (issue: v.CheckIssue<T>) =>
      (issue.input as T)[first] === undefined ? needs : `give "${first}" or "${second}", not both`,
  );
}

const HEARTBEAT_CHECK = v.pipe(
  v.strictObject(
    {
      kind: v.literal('heartbeat'),
      ...commonEntries(HEARTBEAT_RULES),
      /** Seconds the job may take between beats… */
      period: wholeNumber(1, 31 * 86_400),
      /** …and how much later a beat may come before the check fails. */
      grace: v.optional(wholeNumber(0, 31 * 86_400), 0),
      /** The job's token, in the file itself (local use), or its SHA-256 in hex (what a deployed file should hold). */
      token: v.optional(
        v.pipe(text('a string'), v.minLength(16, 'must be at least 16 characters (or give "tokenSha256")')),
      ),
      tokenSha256: v.optional(matching(/^[0-9a-f]{64}$/i, isNot('64 hex digits'))),
    },
    checkMessage('heartbeat'),
  ),
  exactlyOneOf(
    'token',
    'tokenSha256',
    'needs "token" or "tokenSha256": the secret the job sends with each beat',
  ),
);

/**
 * A flow of requests in the load test's scenario format, one iteration per cycle: the scenario inline, or a YAML or
 * JSON file relative to the checks file. The scenario itself is validated when the check is resolved, by its own
 * schema, so that its problems are named under `scenario`.
 */
const SCENARIO_CHECK = v.pipe(
  v.strictObject(
    {
      kind: v.literal('scenario'),
      ...commonEntries(DEFAULT_RULES),
      /** The origin (and base path) the steps' paths are relative to; the monitor's API when absent. */
      url: v.optional(URL_SETTING),
      scenario: v.optional(v.unknown()),
      file: v.optional(
        v.pipe(text('a file path'), v.minLength(1, 'must name a file (relative to the checks file)')),
      ),
      /** The flow to run, by its name; the first one when absent. */
      flow: v.optional(v.pipe(v.string(isNot('a flow name')), v.minLength(1, 'must not be empty'))),
    },
    checkMessage('scenario'),
  ),
  exactlyOneOf(
    'scenario',
    'file',
    'needs "scenario" (the flows inline) or "file" (a scenario file relative to the checks file)',
  ),
);

export const CHECK = v.variant(
  'kind',
  [HTTP_CHECK, DATABASE_CHECK, CORS_CHECK, TLS_CHECK, TCP_CHECK, DNS_CHECK, HEARTBEAT_CHECK, SCENARIO_CHECK],
  (issue) =>
    issue.path
      ? isNot(`one of ${CHECK_KINDS.join(', ')}`)(issue)
      : 'must be an object with at least "name" and "url" or "endpoint"',
);

export type CheckInput = v.InferOutput<typeof CHECK>;

const ISO_TIME = v.pipe(
  v.string(isNot('an ISO 8601 time')),
  v.check((time) => !Number.isNaN(new Date(time).getTime()), isNot('an ISO 8601 time')),
  v.transform((time) => new Date(time)),
);

const MAINTENANCE_WINDOW = v.pipe(
  v.strictObject(
    {
      checks: v.optional(v.array(v.string(isNot('a check')), 'must be a list of check names'), ['*']),
      start: ISO_TIME,
      end: ISO_TIME,
      reason: v.optional(text('a string'), 'maintenance'),
    },
    objectMessage('must be an object {checks, start, end, reason}', 'a maintenance setting'),
  ),
  v.check((window) => window.end > window.start, 'end must be after start'),
);

export const MONITOR_FILE = v.strictObject(
  {
    checks: v.pipe(v.array(CHECK, 'must be a non-empty list'), v.minLength(1, 'must be a non-empty list')),
    maintenance: v.optional(
      v.array(MAINTENANCE_WINDOW, 'must be a list of {checks, start, end, reason}'),
      [],
    ),
  },
  objectMessage('must be a JSON object {"checks": [...], "maintenance": [...]}', 'a monitor setting'),
);

export type MonitorFile = v.InferOutput<typeof MONITOR_FILE>;
export type MaintenanceWindow = MonitorFile['maintenance'][number];
